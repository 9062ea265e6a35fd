import type { BucketConfig } from '../token-bucket.ts';

/**
 * Amazon EC2's request-token buckets per account and region (account defaults; AWS Support can raise them). Source:
 * Amazon EC2 developer guide, "Request throttling for the Amazon EC2 API"
 * (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html), request token bucket sizes and refill
 * rates. RunInstances and TerminateInstances also draw one resource token per instance (1000 burst, refill 2/s and
 * 20/s); launching one instance per call, the request bucket below is the tighter bound. Unfiltered, unpaginated
 * Describe calls have a smaller bucket (50 / 10): ours always filter.
 */
export const EC2_RATE_LIMITS = {
  RunInstances: { burst: 5, refillPerSecond: 2 },
  TerminateInstances: { burst: 100, refillPerSecond: 5 },
  /** Non-mutating calls: DescribeInstances, DescribeImages, DescribeInstanceStatus... */
  Describe: { burst: 100, refillPerSecond: 20 },
  CreateTags: { burst: 100, refillPerSecond: 10 },
  /** Other mutating calls, e.g. MonitorInstances. */
  Mutating: { burst: 50, refillPerSecond: 5 },
} as const satisfies Record<string, BucketConfig>;

export type Ec2RateLimitKey = keyof typeof EC2_RATE_LIMITS;
