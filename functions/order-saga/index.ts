import { cancel, defineEntity, emit, reject, schedule } from "knstate";
import { z } from "zod";

/** How long an order waits for its payment before it is cancelled (ms). */
export const PAYMENT_WINDOW_MS = Number(process.env.ORDER_PAYMENT_WINDOW_MS ?? 15 * 60_000);

const Place = z.strictObject({
  sku: z.string().min(1).max(64),
  quantity: z.number().int().min(1).max(1000),
  amount: z.number().int().min(1),
});
const Pay = z.strictObject({ amount: z.number().int().min(1) });

type Status = "new" | "reserved" | "paid" | "cancelled";

export interface Order {
  readonly status: Status;
  readonly sku?: string;
  readonly quantity?: number;
  readonly amount?: number;
  /** Why a cancelled order was cancelled. */
  readonly reason?: string;
}

/**
 * A small saga written with commands, events and one timer: `place` reserves the stock and
 * starts the payment window; `pay` in time completes the order (and cancels the timer); when
 * the window ends first, the timer runs `paymentTimeout`, which releases the reservation (the
 * compensation) and cancels the order. A late payment is refused.
 */
export default defineEntity({
  name: "order",
  typePrefix: "com.example",
  initialState: (): Order => ({ status: "new" }),
  commands: {
    place: {
      input: Place,
      handle: (order, item) =>
        order.status !== "new"
          ? reject(`the order is ${order.status}`)
          : emit([{ type: "stock-reserved", data: item }], undefined, {
              timers: [schedule({ name: "payment", after: PAYMENT_WINDOW_MS, command: "paymentTimeout" })],
            }),
    },
    pay: {
      input: Pay,
      handle: (order, { amount }) => {
        if (order.status !== "reserved") return reject(`the order is ${order.status}`);
        if (amount !== order.amount) return reject(`the order costs ${order.amount}, not ${amount}`);
        return emit([{ type: "paid", data: { amount } }], undefined, { timers: [cancel("payment")] });
      },
    },
    paymentTimeout: (order, _data: unknown, ctx) => {
      if (ctx.timer === undefined) return reject("the payment window ends by its own timer only");
      if (order.status !== "reserved") return [];
      return [
        { type: "stock-released", data: { sku: order.sku!, quantity: order.quantity! } },
        { type: "cancelled", data: { reason: "payment not received in time" } },
      ];
    },
  },
  events: {
    "stock-reserved": (_o, item: z.infer<typeof Place>): Order => ({ status: "reserved", ...item }),
    paid: (order, _p: { amount: number }): Order => ({ ...order, status: "paid" }),
    "stock-released": (order, _r: { sku: string; quantity: number }): Order => order,
    cancelled: (order, { reason }: { reason: string }): Order => ({ ...order, status: "cancelled", reason }),
  },
});
