/**
 * The Parquet encoder's thread: holds the files being streamed (stream-writer.ts) and answers the main thread's
 * requests (encoder-thread.ts) one by one, in order. Values arrive as structured clones of one row group; the
 * Arrow building, the WASM encoding, the hashing and the file writes all happen here, off the event loop that
 * reads the bus and masks.
 */
import { parentPort } from 'node:worker_threads';
import { PartedFile } from './parted-file.ts';
import type { EncoderReply, EncoderRequest } from './encoder-protocol.ts';

const port = parentPort!;
const files = new Map<number, PartedFile>();

/** The file a request names; one opened before this thread started (the previous one died) is gone. */
function fileOf(req: EncoderRequest): PartedFile {
  const w = files.get(req.file);
  if (!w) throw new Error(`file ${req.file} is not open in this encoder thread (it was restarted)`);
  return w;
}

async function handle(req: EncoderRequest): Promise<EncoderReply | null> {
  switch (req.op) {
    case 'create': {
      files.set(req.file, await PartedFile.create(req.path, req.options, req.partBytes));
      return { id: req.id, ok: true };
    }
    case 'group': {
      // answered once the group is built; the next request waits until the encoder has taken it. A group that
      // cannot be built is answered with the error; one whose encoding fails later fails the file's next request.
      const { issues, submit } = await fileOf(req).prepareGroup(req.values, req.rows);
      port.postMessage({ id: req.id, ok: true, issues } satisfies EncoderReply);
      await submit().catch(() => {});
      return null;
    }
    case 'finish': {
      const w = fileOf(req);
      files.delete(req.file);
      return { id: req.id, ok: true, result: await w.finish(req.metadata) };
    }
    case 'abort': {
      const w = files.get(req.file);
      files.delete(req.file);
      await w?.abort();
      return { id: req.id, ok: true };
    }
  }
}

let chain = Promise.resolve();
port.on('message', (req: EncoderRequest) => {
  chain = chain.then(async () => {
    let reply: EncoderReply | null;
    try {
      reply = await handle(req);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException | undefined)?.code;
      reply = { id: req.id, ok: false, error: e instanceof Error ? e.message : String(e), ...(code ? { code } : {}) };
    }
    if (reply) port.postMessage(reply);
  });
});
