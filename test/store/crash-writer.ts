/**
 * Child process of crash.test.ts (run with `node --import tsx`). Commits
 * transactions in a loop, each writing a device, its status message and the
 * device's id into one collection, and prints the device id only after COMMIT.
 * The parent kills it with SIGKILL mid-loop.
 *
 * argv: <db file> <collection id> <max transactions> <max milliseconds>
 */
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import { deviceRecord } from '../support/devices.js';

const [file, collectionId, maxCountText = '100000', maxMsText = '10000'] = process.argv.slice(2);
if (file === undefined || collectionId === undefined) {
  throw new Error('usage: crash-writer.ts <db file> <collection id> [max transactions] [max ms]');
}
const maxCount = Number(maxCountText);
const deadline = Date.now() + Number(maxMsText);
const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

const repo = await openSqliteRepository({ file });
if ((await repo.collections.get(collectionId)) === undefined) {
  const now = new Date().toISOString();
  await repo.collections.insert({
    id: collectionId,
    name: 'crash test',
    comment: '',
    builtin: null,
    directMemberIds: [],
    rules: [],
    variables: [],
    defaultDpGroupId: null,
    createdAt: now,
    modifiedAt: now,
  });
}

for (let i = 0; i < maxCount && Date.now() < deadline; i++) {
  const id = await repo.transaction(async (tx) => {
    const n = await tx.nextSequence('device');
    const id = String(16777216 + n);
    const now = new Date().toISOString();
    const mac = (0x525400000000 + n).toString(16).padStart(12, '0').match(/../g)!.join(':');
    await tx.devices.insert(deviceRecord(id, `CRASH-${n}`, { macs: [mac] }, now));
    await yieldToEventLoop(); // let the kill land between the writes of one transaction
    await tx.statusMessages.append({
      time: now,
      kind: 'status',
      severity: 'info',
      component: 'crash-writer',
      messageId: 0,
      actor: 'test',
      text: `created ${id}`,
      deviceId: id,
      deploymentId: null,
      data: { n },
    });
    await yieldToEventLoop();
    const c = (await tx.collections.get(collectionId))!;
    await tx.collections.update({ ...c, directMemberIds: [...c.directMemberIds, id], modifiedAt: now });
    return id;
  });
  process.stdout.write(`${id}\n`);
}
await repo.close();
