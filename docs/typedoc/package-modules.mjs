// A TypeDoc plugin for the API site: modules named by package. A package with one entry
// point is one module, named after the package; @cm/manager has three (`.`, `./tcp`,
// `./prometheus`) and @cm/config four (`.`, `./address`, `./events`, `./validation`), which
// TypeDoc would name by file (`index`, `tcp`, ...). This merges the `src/index.ts` module
// into the package's own page (its documentation included), and names the others by the
// specifier they are imported with (`@cm/manager/tcp`, `@cm/config/address`).
import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, extname, join } from 'node:path'
import { Comment, CommentTag, Converter, ReflectionKind } from 'typedoc'

/** The name in the package.json nearest above a file. */
function packageNameOf (file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name
  }
  return undefined
}

/** @param {import('typedoc').Application} app */
export function load (app) {
  // Before TypeDoc's own @mergeModuleWith handling (priority 10000), which does the merge.
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, context => {
    const project = context.project
    const modules = (project.children ?? []).filter(child => child.kindOf(ReflectionKind.Module))
    const fileOf = module => module.sources?.[0]?.fullFileName ?? ''
    // The package's own entry is src/index.ts; another entry is named by the path under
    // src/ it is imported with: src/tcp.ts is `/tcp`, src/address/index.ts is `/address`.
    const subpathOf = module => {
      const file = fileOf(module)
      const under = file.slice(file.lastIndexOf('/src/') + '/src/'.length)
      return under.endsWith('/index.ts') ? under.slice(0, -'/index.ts'.length) : basename(under, extname(under))
    }
    const main = modules.find(module => subpathOf(module) === 'index')
    const name = main === undefined ? undefined : packageNameOf(fileOf(main))
    if (main === undefined || name === undefined) return
    for (const module of modules) {
      if (module !== main) module.name = `${name}/${subpathOf(module)}`
    }
    project.comment ??= main.comment
    main.comment = new Comment([], [new CommentTag('@mergeModuleWith', [{ kind: 'text', text: '<project>' }])])
  }, 20_000)
}
