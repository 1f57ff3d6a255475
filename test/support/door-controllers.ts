// Fake door controllers for tests and benchmarks, on real HTTP (127.0.0.1,
// an ephemeral port), answering the requests the devices answer:
// - Hikvision ISAPI: PUT /ISAPI/AccessControl/RemoteControl/door/<n>, body
//   <RemoteControlDoor><cmd>open</cmd></RemoteControlDoor>, digest auth;
// - Dahua CGI: GET /cgi-bin/accessControl.cgi?action=openDoor&channel=1&UserID=<id>&Type=Remote, digest auth;
// - Shelly Gen1: GET /relay/0?turn=on&timer=<s>;
// - Shelly Gen2+: GET /rpc/Switch.Set?id=0&on=true&toggle_after=<s>;
// and an MQTT broker (aedes) for Tasmota: cmnd/<topic>/POWER1 ON after cmnd/<topic>/PulseTime1 <n>.
// Every accepted open is recorded with what identifies it; anything else is
// refused (401 without valid digest, 400 for a wrong request) and counted.
import crypto from 'crypto';
import http from 'http';
import net from 'net';
import type { AddressInfo } from 'net';

export type Controller = 'hikvision' | 'dahua' | 'shelly1' | 'shelly2' | 'tasmota';

export interface Open {
  controller: Controller;
  /** Door number, Dahua UserID or Shelly timer, as the request gave it. */
  detail: string;
  at: number;
}

interface AedesBroker {
  handle: (socket: net.Socket) => void;
  on(event: 'publish', listener: (packet: { topic: string; payload: Buffer }, client: unknown) => void): void;
  close(cb: () => void): void;
}

const md5 = (text: string) => crypto.createHash('md5').update(text).digest('hex');

function digestFields(header: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of header.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) fields[match[1]] = match[2] ?? match[3];
  return fields;
}

export class FakeDoorControllers {
  readonly opens: Open[] = [];
  readonly refused: Array<{ controller: Controller; status: number; why: string }> = [];
  private readonly nonces = new Set<string>();
  private server: http.Server | undefined;
  private broker: { close(cb: () => void): void } | undefined;
  private brokerServer: net.Server | undefined;
  private readonly pulse = new Map<string, number>();
  port = 0;
  mqttPort = 0;

  constructor(
    readonly user = 'admin',
    readonly password = 'door-test-1',
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  count(controller: Controller): number {
    return this.opens.filter((open) => open.controller === controller).length;
  }

  async start(withBroker = true): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    if (withBroker) await this.startBroker();
  }

  private async startBroker(): Promise<void> {
    const aedes = require('aedes') as { createBroker(): AedesBroker };
    const broker = await Promise.resolve(aedes.createBroker());
    broker.on('publish', (packet: { topic: string; payload: Buffer }, client: unknown) => {
      if (!client) return;
      const match = /^cmnd\/([^/]+)\/(PulseTime1|POWER1)$/i.exec(packet.topic);
      if (!match) return;
      const value = packet.payload.toString();
      if (match[2].toLowerCase() === 'pulsetime1') this.pulse.set(match[1], Number(value));
      else if (value.toUpperCase() === 'ON') {
        const pulse = this.pulse.get(match[1]);
        if (pulse === undefined || !(pulse > 0))
          this.refused.push({ controller: 'tasmota', status: 0, why: 'POWER1 ON without PulseTime1: the relay would stay on' });
        else this.opens.push({ controller: 'tasmota', detail: `${match[1]} pulse ${pulse}`, at: Date.now() });
      }
    });
    this.broker = broker;
    this.brokerServer = net.createServer(broker.handle);
    await new Promise<void>((resolve) => this.brokerServer!.listen(0, '127.0.0.1', resolve));
    this.mqttPort = (this.brokerServer.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    }
    if (this.brokerServer) {
      await new Promise<void>((resolve) => this.broker!.close(() => resolve()));
      await new Promise<void>((resolve) => this.brokerServer!.close(() => resolve()));
    }
  }

  private refuse(res: http.ServerResponse, controller: Controller, status: number, why: string, headers: Record<string, string> = {}): void {
    if (status !== 401 || why !== 'challenge') this.refused.push({ controller, status, why });
    res.writeHead(status, headers).end(why);
  }

  /** True when the request carries a valid digest answer to a nonce we issued; else answers 401 with a challenge. */
  private digestOk(req: http.IncomingMessage, res: http.ServerResponse, controller: Controller, realm: string): boolean {
    const header = req.headers.authorization ?? '';
    if (header.startsWith('Digest ')) {
      const fields = digestFields(header.slice(7));
      const ha1 = md5(`${this.user}:${realm}:${this.password}`);
      const ha2 = md5(`${req.method}:${fields.uri}`);
      const expected = md5(`${ha1}:${fields.nonce}:${fields.nc}:${fields.cnonce}:${fields.qop}:${ha2}`);
      if (fields.username === this.user && fields.realm === realm && this.nonces.has(fields.nonce) && fields.uri === req.url && fields.response === expected)
        return true;
      this.refused.push({ controller, status: 401, why: `bad digest ${header}` });
    }
    const nonce = crypto.randomBytes(16).toString('hex');
    this.nonces.add(nonce);
    this.refuse(res, controller, 401, 'challenge', { 'WWW-Authenticate': `Digest realm="${realm}", qop="auth", nonce="${nonce}", algorithm=MD5` });
    return false;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://controller');
      const query = url.searchParams;
      const hikvision = /^\/ISAPI\/AccessControl\/RemoteControl\/door\/(\d+)$/.exec(url.pathname);
      if (hikvision) {
        if (req.method !== 'PUT') return this.refuse(res, 'hikvision', 405, `method ${req.method}`);
        if (!this.digestOk(req, res, 'hikvision', 'DS-test')) return;
        if (!/^\s*<RemoteControlDoor[^>]*>\s*<cmd>open<\/cmd>\s*<\/RemoteControlDoor>\s*$/.test(body))
          return this.refuse(res, 'hikvision', 400, `body ${body}`);
        this.opens.push({ controller: 'hikvision', detail: hikvision[1], at: Date.now() });
        res
          .writeHead(200, { 'Content-Type': 'application/xml' })
          .end('<ResponseStatus><statusCode>1</statusCode><statusString>OK</statusString></ResponseStatus>');
        return;
      }
      if (url.pathname === '/cgi-bin/accessControl.cgi') {
        if (req.method !== 'GET') return this.refuse(res, 'dahua', 405, `method ${req.method}`);
        if (!this.digestOk(req, res, 'dahua', 'Login to test')) return;
        if (query.get('action') !== 'openDoor' || query.get('channel') !== '1' || query.get('Type') !== 'Remote' || !/^\d+$/.test(query.get('UserID') ?? '')) {
          return this.refuse(res, 'dahua', 400, `query ${url.search}`);
        }
        this.opens.push({ controller: 'dahua', detail: query.get('UserID')!, at: Date.now() });
        res.writeHead(200).end('OK\r\n');
        return;
      }
      if (url.pathname === '/relay/0') {
        if (query.get('turn') !== 'on' || !(Number(query.get('timer')) > 0)) return this.refuse(res, 'shelly1', 400, `query ${url.search}`);
        this.opens.push({ controller: 'shelly1', detail: query.get('timer')!, at: Date.now() });
        res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ ison: true, has_timer: true, timer_duration: Number(query.get('timer')) }));
        return;
      }
      if (url.pathname === '/rpc/Switch.Set') {
        if (query.get('id') !== '0' || query.get('on') !== 'true' || !(Number(query.get('toggle_after')) > 0))
          return this.refuse(res, 'shelly2', 400, `query ${url.search}`);
        this.opens.push({ controller: 'shelly2', detail: query.get('toggle_after')!, at: Date.now() });
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ was_on: false }));
        return;
      }
      res.writeHead(404).end();
    });
  }
}
