import { describe } from "vitest";
import {
  BEARER_MODE_ENV,
  bearerModeSuite,
  COOKIE_MODE_ENV,
  cookieModeSuite,
} from "../suites/browser-clients.suite";
import { onNodeBackends } from "../support/node-backends";

describe("SESSION_COOKIE=on", () => onNodeBackends((h) => cookieModeSuite(h), { env: COOKIE_MODE_ENV }));
describe("SESSION_COOKIE=off", () => onNodeBackends((h) => bearerModeSuite(h), { env: BEARER_MODE_ENV }));
