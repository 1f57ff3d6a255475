// The findface-server config node's contract with the nodes that use it: what
// `RED.nodes.getNode(config.server)` gives them (see nodes/shell/config-node.ts).
// Kept apart from the REST client (findface-api.ts) and the camera cache
// (camera-groups.ts), which both sit below it.
import type { CameraGroups } from './camera-groups';
import type { FindFaceClient } from './findface-api';

export interface FindFaceServerHandle {
  /** The API client; null when the configuration is unusable (see configError). */
  readonly client: FindFaceClient | null;
  /** Why the configuration is unusable (bad URL, no token, bad CA …), or null. */
  readonly configError: string | null;
  /** The server URL as configured (trimmed, no trailing slash). */
  readonly url: string;
  /** SERVICE_EXTERNAL_ADDRESS, or '' when not set. */
  readonly externalAddress: string;
  /** absolutiseUrls with this server's external address. */
  absolutise<T extends Record<string, unknown>>(event: T): T;
  /**
   * The shared camera → group cache of this server, created (and started) on
   * the first call; call `release()` once when done (in the node's close).
   * Stopped when the last lease is released or the config node closes.
   */
  acquireCameraGroups(): CameraGroupsLease;
}

/** A counted reference to a shared camera groups cache (see camera-groups.ts). */
export interface CameraGroupsLease {
  readonly groups: CameraGroups;
  /** Gives the reference back; calling it again does nothing. */
  release(): void;
}
