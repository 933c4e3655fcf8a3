// The smoke test of one installed package, shared by the packaging check
// (scripts/pack-check.mjs) and the release rehearsal (scripts/release-rehearsal.mjs): copies
// scripts/pack-smoke/<name>.mjs into the project that installed the package, runs it as ESM
// JavaScript, and type-checks the same code as TypeScript with the strict options a user
// would have (skipLibCheck off), merged with scripts/pack-smoke/<name>.compiler-options.json
// when the package needs more (@cm/libp2p's peer js-libp2p names ES2024 and DOM types).
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')

/** The @types/node version the repository compiles with (installed beside the package for TypeScript). */
export const typesNodeVersion = JSON.parse(readFileSync(join(root, 'node_modules', '@types', 'node', 'package.json'), 'utf8')).version

/**
 * Runs the smoke test of `name` (a folder name under packages/) in `project`.
 *
 * @param {string} name - the package's folder name, such as `gate`
 * @param {string} project - the project the package is installed in (with @types/node)
 * @param {(command: string, args: string[], options: object) => void | Promise<void>} run - runs a command, printing it
 * @param {string} [node] - the Node.js binary to run the JavaScript with
 */
export async function smokeTest (name, project, run, node = process.execPath) {
  const smoke = join(root, 'scripts', 'pack-smoke', `${name}.mjs`)
  if (!existsSync(smoke)) throw new Error(`no smoke test at scripts/pack-smoke/${name}.mjs`)
  cpSync(smoke, join(project, 'smoke.mjs'))
  cpSync(smoke, join(project, 'smoke.mts'))
  await run(node, ['smoke.mjs'], { cwd: project })
  const overrides = join(root, 'scripts', 'pack-smoke', `${name}.compiler-options.json`)
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2023'], types: ['node'], strict: true, noEmit: true, skipLibCheck: false,
      ...(existsSync(overrides) ? JSON.parse(readFileSync(overrides, 'utf8')) : {})
    },
    files: ['smoke.mts']
  }, null, 2))
  await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project })
}

/**
 * Checks what installing a package into `project` brought: the package's LICENSE, the
 * repository's byte for byte; no @cm package but it and the ones it depends on; and every
 * peer dependency that is not optional (npm 7 and later installs them itself).
 *
 * @param {string} project - the project the package was installed into
 * @param {{ name: string, peerDependencies?: Record<string, string>, peerDependenciesMeta?: Record<string, { optional?: boolean }> }} manifest - the package's manifest
 * @param {Iterable<string>} dependencies - the @cm packages it depends on, transitively
 */
export function checkInstall (project, manifest, dependencies) {
  const licence = join(project, 'node_modules', ...manifest.name.split('/'), 'LICENSE')
  if (!existsSync(licence)) throw new Error(`${manifest.name} has no LICENSE`)
  if (readFileSync(licence, 'utf8') !== readFileSync(join(root, 'LICENSE'), 'utf8')) throw new Error(`the LICENSE of ${manifest.name} differs from the repository's`)

  const allowed = new Set([manifest.name, ...dependencies].map(full => full.slice('@cm/'.length)))
  const extra = readdirSync(join(project, 'node_modules', '@cm')).filter(entry => !allowed.has(entry))
  if (extra.length > 0) throw new Error(`unexpected @cm packages installed: ${extra.join(', ')}`)
  const missing = [...allowed].filter(entry => !existsSync(join(project, 'node_modules', '@cm', entry, 'package.json')))
  if (missing.length > 0) throw new Error(`@cm packages missing: ${missing.join(', ')}`)

  const optional = manifest.peerDependenciesMeta ?? {}
  const missingPeers = Object.keys(manifest.peerDependencies ?? {})
    .filter(peer => optional[peer]?.optional !== true && !existsSync(join(project, 'node_modules', peer, 'package.json')))
  if (missingPeers.length > 0) throw new Error(`peer dependencies not installed: ${missingPeers.join(', ')}`)
}

/**
 * Runs a command with its output shown, failing on a non-zero exit.
 *
 * @param {string} command - the program
 * @param {string[]} args - its arguments
 * @param {import('node:child_process').ExecFileSyncOptions} [options] - `cwd`, `env`, `timeout`, ...
 */
export function run (command, args, options = {}) {
  console.log(`$ ${command} ${args.join(' ')}${options.cwd === undefined ? '' : `   (in ${options.cwd})`}`)
  execFileSync(command, args, { stdio: 'inherit', ...options })
}
