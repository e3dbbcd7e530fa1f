import { defineAction } from "knstate";

/** `com.example.echo.say`: replies with the event's data (a stateless action). */
export default defineAction({
  name: "echo",
  typePrefix: "com.example",
  handlers: {
    say: (data: unknown) => data ?? {},
  },
});
