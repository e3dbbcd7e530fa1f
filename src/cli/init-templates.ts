/**
 * The functions `knstate init --template` starts from (their files are in templates/<name>/),
 * with the commands and events their index.ts declares: the scaffold's Trigger routes them
 * before the project is installed (the package test compares it with `npm run manifest`).
 */
export const TEMPLATES = {
  counter: {
    defaultName: "counter",
    stateful: true,
    zod: false,
    commands: ["increment", "decrement", "reset", "get"],
    events: ["changed", "reset"],
    example: { command: "increment", subject: "c1", data: '{"by": 2}' },
  },
  cart: {
    defaultName: "cart",
    stateful: true,
    zod: true,
    commands: ["addItem", "removeItem", "getCart", "checkout"],
    events: ["item-added", "item-removed", "checked-out"],
    example: {
      command: "addItem",
      subject: "alice",
      data: '{"sku": "apple", "name": "Apple", "quantity": 2}',
    },
  },
  empty: {
    defaultName: "hello",
    stateful: false,
    zod: false,
    commands: ["hello"],
    events: [],
    example: { command: "hello", subject: undefined, data: '{"name": "Ada"}' },
  },
} as const;

export type TemplateName = keyof typeof TEMPLATES;

export interface TemplateFacts {
  /** The npm package name of the project. */
  readonly project: string;
  readonly image: string;
  /** `{{key}}` replacements of the template files. */
  readonly vars: Readonly<Record<string, string>>;
}

/** Names and example commands the template files mention. */
export function templateFacts(template: TemplateName, name: string, folder: string): TemplateFacts {
  const t = TEMPLATES[template];
  const project =
    folder
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[._-]+/, "") || name;
  const image = `dev.local/${name}:0.1.0`;
  const { subject } = t.example;
  return {
    project,
    image,
    vars: {
      name,
      project,
      image,
      type: `com.example.${name}.${t.example.command}`,
      data: t.example.data,
      subjectFlag: subject === undefined ? "" : ` --subject ${subject}`,
      subjectHeader: subject === undefined ? "" : ` -H 'ce-subject: ${subject}'`,
      redisNote: t.stateful
        ? "The Service reads `REDIS_URL` from the Secret `knstate-redis` (key `url`); create it first:\n" +
          "`kubectl create secret generic knstate-redis --from-literal=url=redis://:PASSWORD@redis:6379`.\n"
        : "",
    },
  };
}
