import v8 from 'node:v8'
import vm from 'node:vm'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

/** Memory in use after full collections, in bytes: the JS heap and typed arrays' buffers (kept outside it). */
export function heapUsed (): number {
  gc()
  gc()
  return v8.getHeapStatistics().used_heap_size + process.memoryUsage().arrayBuffers
}
