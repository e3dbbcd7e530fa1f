// The knative/func `cloudevents` template's shape: handle(context, event) returns a CloudEvent
// that faas-js-runtime sends back in binary mode.
const { CloudEvent } = require("cloudevents");

function handle(context, event) {
  return new CloudEvent({
    source: "/bench/faas-js-runtime",
    type: "dev.bench.echo.reply",
    data: event.data,
  });
}

module.exports = { handle };
