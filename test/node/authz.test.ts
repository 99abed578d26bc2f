import { authzSuite } from "../suites/authz.suite";
import { makeHarness } from "../support/harness";
import { onNodeBackends } from "../support/node-backends";

// Routes not mounted yet are skipped by the walker; the OpenAPI cross-check keeps the table honest.
const app = makeHarness({
  backend: "probe",
  open: () => {
    throw new Error("unused");
  },
}).app;
const mounted = new Set(app.routes.map((r) => r.path.replace(/:(\w+)/g, "{$1}")));

onNodeBackends((h) => authzSuite(h, { mounted: (path) => mounted.has(path) || mounted.has(`${path}/`) }));
