// Node-RED treats a flow node without `x` and `y` as a config node: it is
// still created, but config nodes are started first and any of its
// properties equal to another config node's id counts as a dependency (a
// function node named after its own id is then "Circular config node
// dependency detected" and the flow does not start). Benches write flows by
// hand; `placed` gives every node of a tab a position, as the editor would.
import { NodeRedProcess, NodeRedOptions } from '../../test/support/node-red-process';

interface FlowNode {
  id: string;
  type: string;
  z?: string;
  x?: number;
  y?: number;
  [key: string]: unknown;
}

/** Gives every node that sits on a tab (has `z` and `wires`) an x/y, one per row. */
export function placed<T>(flows: T[]): T[] {
  let row = 0;
  return flows.map((node) => {
    const n = node as unknown as FlowNode;
    if (n.type === 'tab' || !n.z || !('wires' in n) || (n.x !== undefined && n.y !== undefined)) return node;
    row++;
    return { ...n, x: 200, y: 40 * row } as unknown as T;
  });
}

/**
 * Runs `body` with NodeRedProcess.create patched so that other benches' flows
 * are placed, and every process gets
 * `execArgv` (e.g. --cpu-prof, which NODE_OPTIONS does not allow) unless it
 * asks for its own. Every process made is added to `created` (so that a
 * runner can stop what a timed-out bench left running). Restored afterwards.
 */
export async function withCompatibleNodeRed<T>(body: () => Promise<T>, execArgv: string[] = [], created: NodeRedProcess[] = []): Promise<T> {
  const original = NodeRedProcess.create;
  NodeRedProcess.create = async function (options: NodeRedOptions = {}) {
    const red = await original.call(NodeRedProcess, {
      ...options,
      flows: options.flows ? placed(options.flows) : undefined,
      execArgv: options.execArgv ?? (execArgv.length ? execArgv : undefined),
    });
    created.push(red);
    return red;
  };
  try {
    return await body();
  } finally {
    NodeRedProcess.create = original;
  }
}
