import { cancel, defineEntity, emit, reject, reply, schedule } from "knstate";
import { z } from "zod";

const Sku = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "sku must be 1-64 letters, digits, . _ or -");
const LineItem = z.strictObject({
  sku: Sku,
  name: z.string().min(1).max(200),
  quantity: z.number().int().max(1_000_000),
});
const Remove = z.strictObject({ sku: Sku });

type LineItem = z.infer<typeof LineItem>;

export interface Cart {
  /** Line items by sku, in the order they were first added. */
  readonly items: Readonly<Record<string, LineItem>>;
  readonly checkedOut: boolean;
}

/**
 * How long a cart may stay untouched before its timer clears it (ms): `CART_EXPIRE_AFTER_MS`
 * when the function is loaded, 30 minutes by default.
 */
export const EXPIRE_AFTER_MS = Number(process.env.CART_EXPIRE_AFTER_MS ?? 30 * 60_000);

/** Every change pushes the cart's expiry back: the timer `expire` is replaced. */
const expiry = { timers: [schedule({ name: "expire", after: EXPIRE_AFTER_MS, command: "expire" })] };

const view = (cart: Cart) => ({ items: Object.values(cart.items), checkedOut: cart.checkedOut });

/**
 * The classic Cloudstate shopping cart: add and remove line items, read the cart, check out.
 * A checked-out cart cannot change. A cart left untouched for `EXPIRE_AFTER_MS` is cleared by
 * its timer (`expire`, run by the host, never by a caller).
 */
export default defineEntity({
  name: "cart",
  typePrefix: "com.example",
  initialState: (): Cart => ({ items: {}, checkedOut: false }),
  commands: {
    addItem: {
      input: LineItem,
      handle: (cart, item) => {
        if (cart.checkedOut) return reject("the cart is checked out");
        if (item.quantity <= 0) return reject(`quantity must be positive, got ${item.quantity}`);
        return emit([{ type: "item-added", data: item }], undefined, expiry);
      },
    },
    removeItem: {
      input: Remove,
      handle: (cart, { sku }) => {
        if (cart.checkedOut) return reject("the cart is checked out");
        if (!Object.hasOwn(cart.items, sku)) return reject(`item ${sku} is not in the cart`);
        return emit([{ type: "item-removed", data: { sku } }], undefined, expiry);
      },
    },
    getCart: (cart) => reply(view(cart)),
    checkout: (cart) => {
      if (cart.checkedOut) return reject("the cart is already checked out");
      if (Object.keys(cart.items).length === 0) return reject("cannot check out an empty cart");
      return emit([{ type: "checked-out", data: {} }], view, { timers: [cancel("expire")] });
    },
    expire: (cart, _data: unknown, ctx) => {
      if (ctx.timer === undefined) return reject("a cart expires by its own timer only");
      if (cart.checkedOut || Object.keys(cart.items).length === 0) return [];
      return [{ type: "cart-expired", data: {} }];
    },
  },
  events: {
    "item-added": (cart, item: LineItem): Cart => {
      const existing = Object.hasOwn(cart.items, item.sku) ? cart.items[item.sku] : undefined;
      const quantity = (existing?.quantity ?? 0) + item.quantity;
      return { ...cart, items: { ...cart.items, [item.sku]: { ...item, quantity } } };
    },
    "item-removed": (cart, { sku }: { sku: string }): Cart => {
      const { [sku]: _removed, ...items } = cart.items;
      return { ...cart, items };
    },
    "checked-out": (cart): Cart => ({ ...cart, checkedOut: true }),
    "cart-expired": (cart): Cart => ({ ...cart, items: {} }),
  },
  reply: view,
  // Every committed event goes to K_SINK (when it is set) through the outbox.
  publish: true,
});
