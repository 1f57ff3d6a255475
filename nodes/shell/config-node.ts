// The findface-server config node as the nodes that use it see it.
import type { Node, NodeAPI } from 'node-red';
import type { FindFaceServerHandle } from '../lib/findface/server-handle';

/** The deployed findface-server node of that id, or null (none, or a node of another type). */
export function findFaceServer(RED: NodeAPI, id: unknown): FindFaceServerHandle | null {
  if (typeof id !== 'string' || id === '') return null;
  const node: Node | null = RED.nodes.getNode(id);
  return node && node.type === 'findface-server' ? (node as Node & FindFaceServerHandle) : null;
}
