/**
 * Entry point of a page worker thread (started by `PageWorkerPool`). It runs the page
 * kernel on a memory shared with the main thread: the main thread copies a batch of frames
 * into one of the worker's slots and posts the slot's number; the worker decodes (or, for
 * the encoder, compresses) the batch, leaves checksums and results in the slot, writes
 * decoded pages straight to the output file when told to, and answers with the slot's job id.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WasmMemory } from '../checksum/crc64-wasm-module.ts';
import { outputOffset, slotLayout, slotPgno, writePageRuns } from './page-batch.ts';
import { PageKernel } from './page-kernel.ts';
import { RESULT_DETAIL } from './page-kernel-module.ts';
import type { PageWorkerReply, PageWorkerRequest } from './page-workers.ts';

const { memory, module, slots } = workerData as { memory: WasmMemory; module: object; slots: number };
const kernel = PageKernel.attach(memory, module);
const bytes = kernel.bytes;
const view = new DataView(memory.buffer);
const out = outputOffset(slots);

parentPort!.on('message', (request: PageWorkerRequest) => {
  let reply: PageWorkerReply;
  try {
    reply = handle(request);
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    reply = { id: request.id, error: { message: err?.message ?? String(error), code: err?.code } };
  }
  parentPort!.postMessage(reply);
});

function handle(request: PageWorkerRequest): PageWorkerReply {
  const layout = slotLayout(request.slot);
  kernel.usePageSize(request.pageSize);
  if (request.op === 'encode') {
    const length = kernel.exports.encodeFrames(layout.input, request.frames, request.pageSize, layout.frames, layout.pgnos, layout.sums, layout.result, 0n);
    return { id: request.id, bytes: length };
  }
  const done = kernel.exports.decodeFrames(layout.input, request.frames, out, request.pageSize, layout.sums, layout.result, 0n);
  if (done !== request.frames) return { id: request.id, failedAt: done, detail: view.getInt32(layout.result + RESULT_DETAIL, true) };
  if (request.fd >= 0) writePageRuns(request.fd, bytes, out, request.pageSize, request.frames, (i) => slotPgno(view, layout, i));
  return { id: request.id, failedAt: -1, detail: 0 };
}
