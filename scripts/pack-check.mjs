#!/usr/bin/env node
// Packaging check: proves "install only the package you need".
//
// For every published package (packages/*): `pnpm pack` it, then install the tarball alone
// (plus the sibling @cm tarballs it declares, and its other dependencies and its peer
// dependencies from the registry) into an empty temporary project; import it from plain ESM JavaScript and run a smoke
// test (scripts/pack-smoke/<name>.mjs) that calls it; type-check the same code as
// TypeScript with `tsc --noEmit`; run `publint --strict` on the package; and check that the
// tarball carries the repository's LICENSE, byte for byte.
//
// Usage: node scripts/pack-check.mjs [name...]   (default: every package)
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const work = join(root, '.pack-check')
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const typesNode = JSON.parse(readFileSync(join(root, 'node_modules', '@types', 'node', 'package.json'), 'utf8')).version

const packages = readdirSync(join(root, 'packages'))
  .filter(name => existsSync(join(root, 'packages', name, 'package.json')))
  .map(name => ({ dir: join(root, 'packages', name), name, manifest: JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')) }))
  .filter(pkg => pkg.manifest.private !== true)
const wanted = process.argv.slice(2)
const selected = wanted.length === 0 ? packages : packages.filter(pkg => wanted.includes(pkg.name))

function run (command, args, options = {}) {
  console.log(`$ ${command} ${args.join(' ')}${options.cwd ? `   (in ${options.cwd})` : ''}`)
  execFileSync(command, args, { stdio: 'inherit', ...options })
}

rmSync(work, { recursive: true, force: true })
mkdirSync(join(work, 'tarballs'), { recursive: true })

// Pack every package, so that siblings can be installed from their tarballs.
const tarballs = new Map()
for (const pkg of packages) {
  const before = new Set(readdirSync(join(work, 'tarballs')))
  run('pnpm', ['pack', '--pack-destination', join(work, 'tarballs')], { cwd: pkg.dir })
  const created = readdirSync(join(work, 'tarballs')).filter(file => !before.has(file))
  if (created.length !== 1) throw new Error(`pnpm pack of ${pkg.manifest.name} made ${created.length} files`)
  tarballs.set(pkg.manifest.name, join(work, 'tarballs', created[0]))
}

/** The @cm packages a package depends on, transitively. */
function siblingsOf (name, seen = new Set()) {
  const pkg = packages.find(candidate => candidate.manifest.name === name)
  for (const dependency of Object.keys(pkg?.manifest.dependencies ?? {})) {
    if (dependency.startsWith('@cm/') && !seen.has(dependency)) {
      seen.add(dependency)
      siblingsOf(dependency, seen)
    }
  }
  return seen
}

const failures = []
for (const pkg of selected) {
  const name = pkg.manifest.name
  console.log(`\n=== ${name} ===`)
  try {
    const smoke = join(root, 'scripts', 'pack-smoke', `${pkg.name}.mjs`)
    if (!existsSync(smoke)) throw new Error(`no smoke test at scripts/pack-smoke/${pkg.name}.mjs`)
    run('pnpm', ['exec', 'publint', '--strict'], { cwd: pkg.dir })

    const project = join(work, pkg.name)
    mkdirSync(project, { recursive: true })
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: `pack-check-${pkg.name}`, private: true, type: 'module' }, null, 2))
    const installs = [tarballs.get(name), ...[...siblingsOf(name)].map(sibling => tarballs.get(sibling)), `@types/node@${typesNode}`]
    run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', ...installs], { cwd: project })

    // The licence ships in every tarball, and it is the repository's.
    const licence = join(project, 'node_modules', ...name.split('/'), 'LICENSE')
    if (!existsSync(licence)) throw new Error('the tarball has no LICENSE')
    if (readFileSync(licence, 'utf8') !== readFileSync(join(root, 'LICENSE'), 'utf8')) throw new Error('the tarball\'s LICENSE differs from the repository\'s')

    // Only the package and what it declares may be present.
    const installed = readdirSync(join(project, 'node_modules', '@cm'))
    const allowed = new Set([name, ...siblingsOf(name)].map(full => full.slice('@cm/'.length)))
    const extra = installed.filter(entry => !allowed.has(entry))
    if (extra.length > 0) throw new Error(`unexpected @cm packages installed: ${extra.join(', ')}`)

    // npm installs peer dependencies itself (npm 7 and later): make sure it did.
    const optionalPeers = pkg.manifest.peerDependenciesMeta ?? {}
    const missingPeers = Object.keys(pkg.manifest.peerDependencies ?? {})
      .filter(peer => optionalPeers[peer]?.optional !== true && !existsSync(join(project, 'node_modules', peer, 'package.json')))
    if (missingPeers.length > 0) throw new Error(`peer dependencies not installed: ${missingPeers.join(', ')}`)

    cpSync(smoke, join(project, 'smoke.mjs'))
    cpSync(smoke, join(project, 'smoke.mts'))
    run(process.execPath, ['smoke.mjs'], { cwd: project })
    // A package may need more of the compiler than the strict default (scripts/pack-smoke/
    // <name>.compiler-options.json, merged over it): @cm/libp2p's peer js-libp2p declares its
    // types with DOM names (EventInit, AddEventListenerOptions, JsonWebKey), so it needs `dom`.
    const overrides = join(root, 'scripts', 'pack-smoke', `${pkg.name}.compiler-options.json`)
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2023'], types: ['node'], strict: true, noEmit: true, skipLibCheck: false,
        ...(existsSync(overrides) ? JSON.parse(readFileSync(overrides, 'utf8')) : {})
      },
      files: ['smoke.mts']
    }, null, 2))
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project })
    console.log(`=== ${name}: ok ===`)
  } catch (error) {
    failures.push(name)
    console.error(`=== ${name}: FAILED: ${error.message} ===`)
  }
}

if (failures.length > 0) {
  console.error(`\nPackaging check failed for: ${failures.join(', ')}`)
  process.exit(1)
}
console.log(`\nPackaging check passed for ${selected.length} package(s).`)
