/**
 * AWS Lambda entry (API Gateway v1/v2, Function URLs, ALB) through Hono's Lambda adapter.
 * The `@hono/aws-lambda` package named in Hono's deprecation notice is not published on npm
 * yet, so this uses `hono/aws-lambda`. Needs DATABASE_URL (Neon Postgres or libSQL); the
 * environment → dependencies part lives in platform/lambda.ts (shared with functions/standalone/).
 */
import { handle } from "hono/aws-lambda";
import { createApp } from "./app";
import { lambdaDeps } from "./platform/lambda";

export { lambdaSourceIp } from "./platform/lambda";

/** Builds the Lambda app from an environment (exported for tests). */
export function createLambdaApp(env: Record<string, string | undefined>) {
  return createApp(lambdaDeps(env));
}

/** A Lambda handler over an explicit environment (tests, or several apps in one process). */
export function createLambdaHandler(env: Record<string, string | undefined>): ReturnType<typeof handle> {
  return handle(createLambdaApp(env));
}

let handler: ReturnType<typeof handle> | undefined;

/** The deployed handler (`functions/lambda.handler`): built from process.env on the first event. */
export const lambdaHandler: ReturnType<typeof handle> = (event, context) => {
  handler ??= createLambdaHandler(process.env);
  return handler(event, context);
};
export { lambdaHandler as handler };
