/**
 * The usage module alone as an AWS Lambda handler (`functions/standalone/usage-lambda.handler`
 * after bundling, see docs/deploy.md): the same app as the usage Worker, over Lambda's platform.
 */
import { handle } from "hono/aws-lambda";
import { lambdaDeps } from "../platform/lambda";
import { createUsageApp } from "./usage";

let handler: ReturnType<typeof handle> | undefined;

/** Built from process.env on the first event, then reused by the warm container. */
export const usageLambdaHandler: ReturnType<typeof handle> = (event, context) => {
  handler ??= handle(createUsageApp(lambdaDeps(process.env)));
  return handler(event, context);
};
export { usageLambdaHandler as handler };
