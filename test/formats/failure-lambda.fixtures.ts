/**
 * failure-lambda's README parameters (github.com/gunnargrosch/failure-lambda), shared by the
 * mapping tests and the behaviour tests: 1.x README "Configuration", 0.4.x README "Create a
 * parameter in SSM Parameter Store".
 */
export const V1_CONFIGURATION = {
  latency: { enabled: false, percentage: 100, min_latency: 100, max_latency: 400 },
  exception: { enabled: false, percentage: 100, exception_msg: 'Exception message!' },
  statuscode: { enabled: false, percentage: 100, status_code: 404 },
  diskspace: { enabled: false, percentage: 100, disk_space: 100 },
  denylist: {
    enabled: false,
    percentage: 50,
    deny_list: ['s3.*.amazonaws.com', 'dynamodb.*.amazonaws.com'],
  },
  timeout: { enabled: false, percentage: 100, timeout_buffer_ms: 500 },
  corruption: { enabled: false, percentage: 30, body: '{"error": "corrupted"}' },
}

export const V0_SSM_PARAMETER = {
  isEnabled: false,
  failureMode: 'latency',
  rate: 1,
  minLatency: 100,
  maxLatency: 400,
  exceptionMsg: 'Exception message!',
  statusCode: 404,
  diskSpace: 100,
  denylist: ['s3.*.amazonaws.com', 'dynamodb.*.amazonaws.com'],
}
