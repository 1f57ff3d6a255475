// findface-server (config node): a FindFace server's address, API token
// (credential) or a user name and password (credentials: it logs in with
// POST /auth/login/ and renews the token, lib/findface/session.ts), TLS
// settings and SERVICE_EXTERNAL_ADDRESS, parsed by
// lib/findface/server-config.ts. It gives the nodes that use it an API client
// (lib/findface/findface-api.ts), absolutiseUrls with its external address,
// and a shared, lazily started camera → group cache (lib/findface/camera-groups.ts):
// the FindFaceServerHandle of lib/findface/server-handle.ts. The "Test
// connection" and "Set up the webhook in FindFace" endpoints are in test-endpoint.ts.
import type { NodeAPI, NodeDef } from 'node-red';
import { CameraGroups, CameraGroupsStatus, cameraGroupsStatusText } from '../lib/findface/camera-groups';
import { absolutiseUrls, FindFaceApiError, FindFaceClient } from '../lib/findface/findface-api';
import type { CameraGroupsLease } from '../lib/findface/server-handle';
import { normaliseServerUrl, parseExternalAddress, parseServerConfig } from '../lib/findface/server-config';
import { authFrom, LoginSession, sessionUuid } from '../lib/findface/session';
import { absoluteUrl, httpNodeSettingsOf } from '../lib/delivery/target-url';
import { CardLookup } from '../lib/findface/card-lookup';
import { userDir } from '../shell/settings';
import { problemText } from '../shell/node-errors';
import { registerTestEndpoint } from './test-endpoint';
import type { ServerCredentials, ServerNode } from './server-node';

interface ServerDef extends NodeDef {
  url: string;
  externalAddress: string;
  timeout: number | string;
  rejectUnauthorized: boolean | string;
  ca: string;
}

export = function (RED: NodeAPI) {
  function FindFaceServerNode(this: ServerNode, config: ServerDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    // A path (a stand-in FindFace in this Node-RED's own flows) means this Node-RED's httpNode.
    const here = httpNodeSettingsOf(RED);
    node.url = absoluteUrl(normaliseServerUrl(config.url), here);
    node.client = null;
    node.configError = null;
    node.settings = { timeout: config.timeout, rejectUnauthorized: config.rejectUnauthorized, ca: config.ca };

    // A fixed token, or a login with a user name and password (renewed before it expires and after a 401).
    const auth = authFrom(node.credentials);
    let session: LoginSession | undefined;
    if (auth.auth?.kind === 'login') {
      const { username, password } = auth.auth;
      const uuid = sessionUuid(node.id);
      session = new LoginSession({
        password,
        login: (options) => {
          if (!node.client) throw new FindFaceApiError('config', node.configError ?? RED._('findface-server.errors.not-configured'));
          return node.client.login(username, password, { ...options, uuid });
        },
        onLogin: ({ expiresAt, reason }) =>
          node.debug(
            `logged in to FindFace (${reason}); the token expires ${expiresAt === undefined ? 'at an unknown time' : `at ${new Date(expiresAt).toISOString()}`}`,
          ),
      });
    }
    const token = session ?? (auth.auth?.kind === 'token' ? auth.auth.token : '');
    const options = parseServerConfig({ ...config, url: node.url, token }, userDir(RED));
    const external = parseExternalAddress(
      typeof config.externalAddress === 'string' ? absoluteUrl(normaliseServerUrl(config.externalAddress), here) : config.externalAddress,
    );
    node.externalAddress = external.ok ? external.value : '';
    const problem = !options.ok ? options.problem : !external.ok ? external.problem : undefined;
    // authFrom words its problems without naming a secret; with no credentials at all, the token is what is missing.
    const anyCredential = [node.credentials?.token, node.credentials?.username, node.credentials?.password].some(
      (value) => typeof value === 'string' && value.trim() !== '',
    );
    if (auth.problem && anyCredential) node.configError = auth.problem;
    else if (problem) node.configError = problemText(RED, 'findface-server', problem);
    else if (options.ok) {
      try {
        node.client = new FindFaceClient(options.value);
      } catch (error) {
        node.configError = (error as Error).message;
      }
    }
    if (node.configError) node.warn(`${RED._('findface-server.errors.config')}: ${node.configError}`);

    node.absolutise = <T extends Record<string, unknown>>(event: T): T => absolutiseUrls(event, node.externalAddress);

    // ---- the shared camera → group cache, created on the first lease ---------------------------
    let groups: CameraGroups | undefined;
    let leases = 0;
    let closed = false;
    let lastState: CameraGroupsStatus['state'] | undefined;
    const onGroupsStatus = (status: CameraGroupsStatus) => {
      if (status.state === 'failed' && lastState !== 'failed') {
        node.warn(`${RED._('findface-server.errors.cameras')}: ${cameraGroupsStatusText(status)}`);
      } else if (status.state === 'loaded') {
        node.debug(cameraGroupsStatusText(status));
      }
      lastState = status.state;
    };
    const unusable = {
      listCameras: async () => {
        throw new FindFaceApiError('config', node.configError ?? RED._('findface-server.errors.not-configured'));
      },
    };
    node.acquireCameraGroups = (): CameraGroupsLease => {
      if (!groups) {
        groups = new CameraGroups({ source: node.client ?? unusable, onStatus: onGroupsStatus });
        if (closed) groups.stop();
        else groups.start();
      }
      const leased = groups;
      leases++;
      let released = false;
      return {
        groups: leased,
        release: () => {
          if (released) return;
          released = true;
          leases--;
          if (leases <= 0 && groups === leased) {
            leased.stop();
            groups = undefined;
            leases = 0;
          }
        },
      };
    };

    // ---- the shared card cache ("who was seen"), created on first use ---------------------------
    let cardLookup: CardLookup | undefined;
    let lastCardWarning = -Infinity;
    node.cards = () => {
      if (!node.client || closed) return null;
      const client = node.client;
      cardLookup ??= new CardLookup({
        fetch: (id, options) => client.getHumanCard(id, options),
        onError: (id, message) => {
          // At most one warning a minute: a FindFace that is down must not flood the log.
          if (performance.now() - lastCardWarning < 60000) return;
          lastCardWarning = performance.now();
          node.warn(`${RED._('findface-server.errors.card')} ${id}: ${message}`);
        },
      });
      return cardLookup;
    };

    node.on('close', (done: () => void) => {
      closed = true;
      cardLookup?.stop();
      groups?.stop();
      groups = undefined;
      leases = 0;
      node.client?.destroy();
      done();
    });
  }

  RED.nodes.registerType<ServerNode, ServerDef, unknown, ServerCredentials>('findface-server', FindFaceServerNode, {
    credentials: { token: { type: 'password' }, username: { type: 'text' }, password: { type: 'password' } },
  });
  registerTestEndpoint(RED);
};
