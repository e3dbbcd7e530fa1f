import { defineEntity } from "knstate";

export interface CartStats {
  /** Units of the SKU added to carts (for `sku:<sku>` entities). */
  readonly added: number;
  /** Carts checked out that day (for `day:<yyyy-mm-dd>` entities). */
  readonly checkouts: number;
}

interface ItemAdded {
  readonly sku: string;
  readonly quantity: number;
}

/** `{"sku": "...", "quantity": n}` as the cart publishes it (other keys are ignored). */
function itemAdded(input: unknown): ItemAdded {
  const { sku, quantity } = (input ?? {}) as Partial<ItemAdded>;
  if (typeof sku !== "string" || sku === "") throw new Error("sku must be a non-empty string");
  if (typeof quantity !== "number" || !Number.isSafeInteger(quantity) || quantity < 1) {
    throw new Error("quantity must be a positive integer");
  }
  return { sku, quantity };
}

/**
 * A projection of the shopping cart's published events (function `shopping-cart`, which
 * publishes through the outbox to the Broker): how many units of each SKU were added to carts
 * (entity `sku:<sku>`) and how many carts were checked out each day (entity `day:<yyyy-mm-dd>`,
 * the UTC day of the event's time). The Broker redelivers at least once; each event's
 * `source` + `id` is applied once. `GET /cart-stats/sku:<sku>` or `/cart-stats/day:<day>` reads it.
 */
export default defineEntity({
  name: "cart-stats",
  typePrefix: "com.example",
  initialState: (): CartStats => ({ added: 0, checkouts: 0 }),
  commands: {
    countAdded: {
      input: itemAdded,
      handle: (_stats, { quantity }) => [{ type: "added" as const, data: { quantity } }],
    },
    countCheckout: () => [{ type: "checked-out" as const, data: {} }],
    get: () => [],
  },
  events: {
    added: (stats: CartStats, { quantity }: { quantity: number }): CartStats => ({
      ...stats,
      added: stats.added + quantity,
    }),
    "checked-out": (stats: CartStats): CartStats => ({ ...stats, checkouts: stats.checkouts + 1 }),
  },
  reply: (stats) => stats,
  subscribe: {
    "com.example.cart.item-added": {
      command: "countAdded",
      id: (event) => {
        const sku = (event.data as { sku?: unknown } | undefined)?.sku;
        return typeof sku === "string" && sku !== "" ? `sku:${sku}` : undefined;
      },
    },
    "com.example.cart.checked-out": {
      command: "countCheckout",
      id: (event) => (event.time === undefined ? undefined : `day:${event.time.slice(0, 10)}`),
      data: () => undefined,
    },
  },
});
