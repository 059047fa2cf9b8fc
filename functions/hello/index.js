// Returns a greeting. `event.query.name` picks who is greeted.
exports.handler = async (event) => {
  const name = event.query.name || 'world';
  return { statusCode: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `Hello, ${name}!\n` };
};
