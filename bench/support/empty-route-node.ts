// A bench-only node, copied into the benchmark's Node-RED user directory
// (<userDir>/nodes/) and never shipped: `bench-empty-route` serves `path` and
// answers 200 at once, without looking at the body beyond what runs before it.
// - `early` false: a route on RED.httpNode, like any node's route (express
//   routing through Node-RED's admin and node apps, their body parsers, cors
//   ...): the ceiling of anything served on httpNode.
// - `early` true: a middleware at the top of Node-RED's root express app,
//   before everything else (where the source's raw-body capture sits): the
//   ceiling of an HTTP answer from inside the Node-RED process.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { IncomingMessage, ServerResponse } from 'http';

interface EmptyRouteDef extends NodeDef {
  path: string;
  early?: boolean;
}

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
interface App {
  parent?: App;
  _router?: { stack: Array<{ handle: unknown; route?: { stack: Array<{ handle: unknown }> } }> };
  router?: { stack: Array<{ handle: unknown; route?: { stack: Array<{ handle: unknown }> } }> };
  use(middleware: Middleware): unknown;
}

const stackOf = (app: App) => (app._router ?? app.router)?.stack ?? [];

export = function (RED: NodeAPI) {
  function BenchEmptyRouteNode(this: Node, config: EmptyRouteDef) {
    RED.nodes.createNode(this, config);
    const path = config.path.startsWith('/') ? config.path : `/${config.path}`;
    const httpNode = RED.httpNode as unknown as App;
    let app = httpNode;
    let handler: unknown;
    if (config.early) {
      while (app.parent) app = app.parent;
      const middleware: Middleware = (req, res, next) => {
        if (req.method !== 'POST' || req.url !== path) return next();
        req.resume();
        req.on('end', () => {
          res.statusCode = 200;
          res.end();
        });
      };
      app.use(middleware);
      const stack = stackOf(app);
      const index = stack.findIndex((layer) => layer.handle === middleware);
      if (index > 0) stack.unshift(stack.splice(index, 1)[0]);
      handler = middleware;
    } else {
      const route = (_req: unknown, res: { sendStatus(code: number): void }) => res.sendStatus(200);
      RED.httpNode.post(path, route as never);
      handler = route;
    }
    this.on('close', (done: () => void) => {
      const stack = stackOf(app);
      for (let index = stack.length - 1; index >= 0; index--) {
        const layer = stack[index];
        if (layer.handle === handler || layer.route?.stack.some((l) => l.handle === handler)) stack.splice(index, 1);
      }
      done();
    });
  }
  RED.nodes.registerType('bench-empty-route', BenchEmptyRouteNode);
};
