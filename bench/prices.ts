/** AWS list prices the benches multiply their counts by, USD, us-east-1 (docs/pricing.md has their sources). */
export const PRICE = {
  transition: 0.025 / 1000,
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecond: 0.0000133334,
  apiRequest: 1 / 1e6,
  event: 1 / 1e6,
  sqsRequest: 0.4 / 1e6,
  wru: 0.625 / 1e6,
  rru: 0.125 / 1e6,
} as const;
