// The one way this package makes HTTP requests: axios with nothing done to
// the bytes. Bodies go out as given (callers pass JSON text), answers come
// back as text, every status is an answer (the caller classifies it), and
// redirects are never followed: a POST must not turn into a GET, and a token
// must not travel to another address.
import type http from 'http';
import type https from 'https';
import axios, { AxiosInstance } from 'axios';

export interface RawHttpOptions {
  httpAgent?: http.Agent;
  httpsAgent?: https.Agent;
  /** Per request, ms; 0 or absent = none. */
  timeoutMs?: number;
  /** Larger answers fail (the callers need the status and little more). */
  maxResponseBytes: number;
}

export function rawHttpClient(options: RawHttpOptions): AxiosInstance {
  return axios.create({
    httpAgent: options.httpAgent,
    httpsAgent: options.httpsAgent,
    timeout: options.timeoutMs && options.timeoutMs > 0 ? Math.floor(options.timeoutMs) : 0,
    maxRedirects: 0,
    validateStatus: () => true,
    responseType: 'text',
    transformRequest: [(data: unknown) => data],
    transformResponse: [(data: unknown) => data],
    maxContentLength: options.maxResponseBytes,
    maxBodyLength: Infinity,
  });
}
