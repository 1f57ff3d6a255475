// The findface-server node object: the handle the other nodes use, plus what its test endpoint reads.
import type { Node } from 'node-red';
import type { FindFaceClient } from '../lib/findface/findface-api';
import type { FindFaceServerHandle } from '../lib/findface/server-handle';

export type { ServerCredentials } from '../lib/findface/session';
import type { ServerCredentials } from '../lib/findface/session';

export type ServerNode = Node<ServerCredentials> &
  FindFaceServerHandle & {
    client: FindFaceClient | null;
    configError: string | null;
    url: string;
    externalAddress: string;
    /** The configured timeout and TLS settings as given (for the test endpoint). */
    settings: { timeout: unknown; rejectUnauthorized: unknown; ca: unknown };
  };
