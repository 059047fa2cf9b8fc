// Lambda style, Node: a handler written for AWS Lambda runs unchanged. Through the gateway the
// event is API Gateway's HTTP API event; on the invoke path it is the JSON body itself.
exports.handler = async (event, context) => {
  const name = (event && (event.name || (event.queryStringParameters && event.queryStringParameters.name))) || 'world';
  return { message: `Hello, ${name}!`, functionName: context.functionName, requestId: context.awsRequestId };
};
