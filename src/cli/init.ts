import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { Command, Option } from "commander";
import { EXIT, VERSION, type CommandHost } from "./command-host.js";
import { TEMPLATES, templateFacts, type TemplateName } from "./init-templates.js";

export interface InitOptions {
  readonly dir: string;
  readonly template: TemplateName;
  /** The function's folder and entity or action name; the template's own name when absent. */
  readonly name?: string | undefined;
  /** What goes into the project's `dependencies.knstate`: a version range, or a path to a tarball or folder. */
  readonly knstate?: string | undefined;
}

/** `knstate init <dir>` */
export function initCommand(host: CommandHost): Command {
  return new Command("init")
    .summary("write a new TypeScript project with one function")
    .description(
      "Write a standalone TypeScript project: package.json, tsconfig.json, functions/<name>/ with a test,\n" +
        "a Dockerfile, .dockerignore, a README with the commands and knative/ manifests.\n" +
        "The folder must be new or empty. Then: cd <dir> && npm install && npm test && npm run dev",
    )
    .argument("<dir>", "the project folder to create")
    .addOption(
      new Option("-t, --template <template>", "the function to start from")
        .choices(Object.keys(TEMPLATES))
        .default("counter"),
    )
    .option("--name <name>", "the function's name: its folder, CloudEvent types and Service name")
    .option(
      "--knstate <spec>",
      `knstate dependency: a version range or a tarball or folder (default: ^${VERSION})`,
    )
    .action((dir: string, o: { template: TemplateName; name?: string; knstate?: string }) =>
      host.run(async () => {
        try {
          const written = await init({ dir, template: o.template, name: o.name, knstate: o.knstate });
          host.out(`wrote ${written.length} files into ${dir}:`);
          for (const file of written) host.out(`  ${file}`);
          host.out(`\nnext:\n  cd ${dir}\n  npm install\n  npm test\n  npm run dev`);
          return EXIT.ok;
        } catch (error) {
          if (!(error instanceof UsageError)) throw error;
          host.err(`knstate init: ${error.message}`);
          return EXIT.usage;
        }
      }),
    );
}

/** A mistake in the arguments: exit code 2. */
export class UsageError extends Error {}

const NAME = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Writes the project; resolves with the files written, relative to `dir`. */
export async function init(options: InitOptions): Promise<string[]> {
  const dir = resolve(options.dir);
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw new UsageError(`${options.dir} is not empty: choose a new or empty folder`);
  }
  const template = TEMPLATES[options.template];
  const name = options.name ?? template.defaultName;
  if (!NAME.test(name)) {
    throw new UsageError(
      `--name ${name}: use lower-case letters, digits and "-", starting with a letter (it names a Kubernetes Service)`,
    );
  }
  const own = ownPackage();
  const facts = templateFacts(options.template, name, basename(dir));
  const files: Record<string, string> = {
    "package.json": JSON.stringify(
      projectPackage(facts.project, name, options.template, knstateSpec(options.knstate), own),
      null,
      2,
    ),
    "tsconfig.json": fill(readTemplate("project/tsconfig.json.tmpl"), facts.vars),
    ".gitignore": readTemplate("project/gitignore.tmpl"),
    ".dockerignore": readTemplate("project/dockerignore.tmpl"),
    Dockerfile: fill(readTemplate("project/Dockerfile.tmpl"), facts.vars),
    "README.md": fill(readTemplate("project/README.md.tmpl"), facts.vars),
    [`functions/${name}/index.ts`]: fill(readTemplate(`${options.template}/index.ts.tmpl`), facts.vars),
    [`functions/${name}/index.test.ts`]: fill(readTemplate(`${options.template}/test.ts.tmpl`), facts.vars),
    [`knative/${name}.yaml`]: await functionManifests(name, facts.image, options.template),
  };
  for (const [file, text] of Object.entries(files)) {
    const path = join(dir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text.endsWith("\n") ? text : text + "\n");
  }
  return Object.keys(files);
}

/**
 * The Knative Service and its Trigger, as `knstate manifest` prints them (`npm run manifest`
 * rewrites the file the same). Built from what the template declares: the project has no
 * node_modules yet, so its function cannot be loaded here.
 */
async function functionManifests(name: string, image: string, template: TemplateName): Promise<string> {
  const [
    { buildService, IMAGE_FUNCTIONS_DIR },
    { buildTrigger },
    { renderFunctionManifests },
    { manifestCommandLine },
  ] = await Promise.all([
    import("../deploy/service.js"),
    import("../deploy/trigger.js"),
    import("../deploy/render.js"),
    import("./deploy.js"),
  ]);
  const { stateful, commands, events } = TEMPLATES[template];
  const base = `com.example.${name}.`;
  const commandTypes = commands.map((command) => base + command);
  const routing = {
    service: name,
    commandTypes,
    replyTypes: commandTypes.map((type) => `${type}.reply`),
    publishedTypes: events.map((event) => base + event),
    ownSourcePrefix: `/${name}/`,
  };
  const dir = `functions/${name}`;
  const manifests = {
    service: buildService({ name, image, stateful, functionPath: `${IMAGE_FUNCTIONS_DIR}/${name}` }),
    trigger: buildTrigger(routing),
    routing,
  };
  return renderFunctionManifests(manifests, manifestCommandLine({ dir, image })).trimEnd();
}

interface OwnPackage {
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

function projectPackage(
  project: string,
  name: string,
  template: TemplateName,
  knstate: string,
  own: OwnPackage,
): Record<string, unknown> {
  const dev = (pkg: string, fallback: string) => own.devDependencies?.[pkg] ?? fallback;
  return {
    name: project,
    version: "0.1.0",
    private: true,
    type: "module",
    engines: { node: ">=20" },
    scripts: {
      dev: `knstate dev functions/${name}`,
      test: "node --import tsx --test functions/*/*.test.ts",
      build: "tsc -p tsconfig.json",
      start: `knstate serve dist/functions/${name}`,
      manifest: `knstate manifest functions/${name} --image dev.local/${name}:0.1.0 > knative/${name}.yaml`,
    },
    dependencies: {
      knstate,
      ...(TEMPLATES[template].zod ? { zod: own.dependencies?.zod ?? "^4.0.0" } : {}),
    },
    devDependencies: {
      "@types/node": dev("@types/node", "^20.19.0"),
      tsx: dev("tsx", "^4.20.0"),
      typescript: dev("typescript", "^5.9.0"),
    },
  };
}

/** A version range stays as given; a path (tarball or folder) becomes an absolute `file:` spec. */
function knstateSpec(spec: string | undefined): string {
  if (spec === undefined) return `^${VERSION}`;
  if (/^(\.{0,2}\/|~\/)|\.tgz$/.test(spec) || existsSync(spec)) {
    const absolute = resolve(spec.replace(/^~(?=\/)/, process.env.HOME ?? "~"));
    if (!existsSync(absolute)) throw new UsageError(`--knstate ${spec}: no such file or folder`);
    return `file:${absolute}`;
  }
  return spec;
}

const ROOTS = ["../../../", "../../"].map((up) => new URL(up, import.meta.url));

function packageRoot(): URL {
  const root = ROOTS.find((url) => existsSync(new URL("templates/", url)));
  if (root === undefined) throw new Error("the knstate package has no templates/ folder");
  return root;
}

function readTemplate(path: string): string {
  return readFileSync(new URL(`templates/${path}`, packageRoot()), "utf8");
}

function ownPackage(): OwnPackage {
  return JSON.parse(readFileSync(new URL("package.json", packageRoot()), "utf8")) as OwnPackage;
}

function fill(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => vars[key] ?? whole);
}
