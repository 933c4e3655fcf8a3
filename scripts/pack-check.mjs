#!/usr/bin/env node
// Packaging check: proves "install only the package you need".
//
// For every published package (packages/*): `pnpm pack` it, then install the tarball alone
// (plus the sibling @cm tarballs it declares, and its other dependencies and its peer
// dependencies from the registry) into an empty temporary project; import it from plain ESM
// JavaScript and run a smoke test (scripts/pack-smoke/<name>.mjs) that calls it; type-check
// the same code as TypeScript with `tsc --noEmit`; run `publint --strict` on the package;
// and check that the tarball carries the repository's LICENSE, byte for byte.
//
// The sibling tarballs are named on the command line because nothing is published yet;
// scripts/release-rehearsal.mjs proves the install users will run, from a real registry.
//
// Usage: node scripts/pack-check.mjs [name...]   (default: every package)
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { checkInstall, run, smokeTest, typesNodeVersion } from './smoke-test.mjs'

const root = resolve(import.meta.dirname, '..')
const work = join(root, '.pack-check')

const packages = readdirSync(join(root, 'packages'))
  .filter(name => existsSync(join(root, 'packages', name, 'package.json')))
  .map(name => ({ dir: join(root, 'packages', name), name, manifest: JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')) }))
  .filter(pkg => pkg.manifest.private !== true)
const wanted = process.argv.slice(2)
const selected = wanted.length === 0 ? packages : packages.filter(pkg => wanted.includes(pkg.name))

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
    run('pnpm', ['exec', 'publint', '--strict'], { cwd: pkg.dir })

    const project = join(work, pkg.name)
    mkdirSync(project, { recursive: true })
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: `pack-check-${pkg.name}`, private: true, type: 'module' }, null, 2))
    const installs = [tarballs.get(name), ...[...siblingsOf(name)].map(sibling => tarballs.get(sibling)), `@types/node@${typesNodeVersion}`]
    run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', ...installs], { cwd: project })

    checkInstall(project, pkg.manifest, siblingsOf(name))
    await smokeTest(pkg.name, project, run)
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
