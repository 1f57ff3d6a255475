// findface-server (config node): a FindFace server's address, API token
// (credential), TLS settings and SERVICE_EXTERNAL_ADDRESS, parsed by
// lib/findface/server-config.ts. It gives the nodes that use it an API client
// (lib/findface/findface-api.ts), absolutiseUrls with its external address,
// and a shared, lazily started camera → group cache (lib/findface/camera-groups.ts):
// the FindFaceServerHandle of lib/findface/server-handle.ts. The "Test
// connection" endpoint is in test-endpoint.ts.
import type { NodeAPI, NodeDef } from 'node-red';
import { CameraGroups, CameraGroupsStatus, cameraGroupsStatusText } from '../lib/findface/camera-groups';
import { absolutiseUrls, FindFaceApiError, FindFaceClient } from '../lib/findface/findface-api';
import type { CameraGroupsLease } from '../lib/findface/server-handle';
import { normaliseServerUrl, parseExternalAddress, parseServerConfig } from '../lib/findface/server-config';
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
    node.url = normaliseServerUrl(config.url);
    node.client = null;
    node.configError = null;
    node.settings = { timeout: config.timeout, rejectUnauthorized: config.rejectUnauthorized, ca: config.ca };

    const options = parseServerConfig({ ...config, token: node.credentials?.token }, userDir(RED));
    const external = parseExternalAddress(config.externalAddress);
    node.externalAddress = external.ok ? external.value : '';
    const problem = !options.ok ? options.problem : !external.ok ? external.problem : undefined;
    if (problem) node.configError = problemText(RED, 'findface-server', problem);
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

    node.on('close', (done: () => void) => {
      closed = true;
      groups?.stop();
      groups = undefined;
      leases = 0;
      node.client?.destroy();
      done();
    });
  }

  RED.nodes.registerType<ServerNode, ServerDef, unknown, ServerCredentials>('findface-server', FindFaceServerNode, {
    credentials: { token: { type: 'password' } },
  });
  registerTestEndpoint(RED);
};
