/**
 * The one Powertools Logger. Deployment keys are appended per deployment and cleared afterwards.
 * Nothing that could hold credentials (AWS clients, raw CodePipeline events) is ever passed to it.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'ferry' });
