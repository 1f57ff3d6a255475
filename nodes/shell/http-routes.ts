// Removing a route from Node-RED's httpNode app on close (as the core http in
// node does), for express 4 (`app._router`) and express 5 (`app.router`).

interface RouteLayer {
  route?: { stack: Array<{ handle: unknown }> };
}

interface RoutedApp {
  _router?: { stack?: RouteLayer[] };
  router?: { stack?: RouteLayer[] };
}

/** Removes every route whose handler is `handler` from an express app. */
export function removeRoute(app: unknown, handler: unknown): void {
  const routed = app as RoutedApp;
  const stack = (routed._router ?? routed.router)?.stack ?? [];
  for (let index = stack.length - 1; index >= 0; index--) {
    const route = stack[index].route;
    if (route && route.stack.some((layer) => layer.handle === handler)) stack.splice(index, 1);
  }
}
