// What every function's bundle carries for tracing: the Powertools tracer and, under it, the X-Ray SDK.
import { Tracer } from '@aws-lambda-powertools/tracer';

export const tracer = new Tracer();
