// Returns the request body unchanged, byte for byte, with the request's content type.
exports.handler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': event.headers['content-type'] || 'application/octet-stream' },
  body: event.body,
});
