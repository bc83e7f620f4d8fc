// The progress renderer against JSON-lines recorded from dockerd 20.10 (pull and push through
// the docker CLI 28.2.2, ../shared/reference/engine-api/registry.md): off a terminal the CLI's
// recorded output, byte for byte; on a terminal one line per layer id, redrawn in place.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { displayJsonMessages, progressString } from '../../src/cli/format/jsonmessage';
import type { JsonMessage } from '../../src/client/types';
import { StreamError } from '../../src/client/errors';

const PULL = `{"status":"Pulling from tr-big","id":"1"}
{"status":"Already exists","progressDetail":{},"id":"e0cca28bb7e2"}
{"status":"Pulling fs layer","progressDetail":{},"id":"87f1eaf8163e"}
{"status":"Downloading","progressDetail":{"current":32768,"total":3073125},"progress":"[\\u003e                                                  ]  32.77kB/3.073MB","id":"87f1eaf8163e"}
{"status":"Verifying Checksum","progressDetail":{},"id":"87f1eaf8163e"}
{"status":"Download complete","progressDetail":{},"id":"87f1eaf8163e"}
{"status":"Extracting","progressDetail":{"current":32768,"total":3073125},"progress":"[\\u003e                                                  ]  32.77kB/3.073MB","id":"87f1eaf8163e"}
{"status":"Extracting","progressDetail":{"current":3073125,"total":3073125},"progress":"[==================================================\\u003e]  3.073MB/3.073MB","id":"87f1eaf8163e"}
{"status":"Pull complete","progressDetail":{},"id":"87f1eaf8163e"}
{"status":"Digest: sha256:e7212448"}
{"status":"Status: Downloaded newer image for 127.0.0.1:5050/tr-big:1"}
`;

const PULL_PLAIN = `1: Pulling from tr-big
e0cca28bb7e2: Already exists
87f1eaf8163e: Pulling fs layer
87f1eaf8163e: Verifying Checksum
87f1eaf8163e: Download complete
87f1eaf8163e: Pull complete
Digest: sha256:e7212448
Status: Downloaded newer image for 127.0.0.1:5050/tr-big:1
`;

const PUSH = `{"status":"The push refers to repository [127.0.0.1:5050/tr-busybox]"}
{"status":"Preparing","progressDetail":{},"id":"9339bdedf3e4"}
{"status":"Preparing","progressDetail":{},"id":"cc61e3219539"}
{"status":"Pushing","progressDetail":{"current":19968,"total":1984132},"progress":"[\\u003e      ]  19.97kB/1.984MB","id":"cc61e3219539"}
{"status":"Pushed","progressDetail":{},"id":"9339bdedf3e4"}
{"status":"Pushing","progressDetail":{"current":2129920,"total":1984132},"progress":"[=====\\u003e]   2.13MB","id":"cc61e3219539"}
{"status":"Pushed","progressDetail":{},"id":"cc61e3219539"}
{"status":"latest: digest: sha256:c749c6a4 size: 942"}
{"progressDetail":{},"aux":{"Tag":"latest","Digest":"sha256:c749c6a4","Size":942}}
`;

function messages(text: string): AsyncIterable<JsonMessage> {
  const list = text.trim().split('\n').map((l) => JSON.parse(l) as JsonMessage);
  return (async function* () { yield* list; })();
}

function sink(): { w: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const w = new Writable({ write(c, _e, cb) { chunks.push(Buffer.from(c)); cb(); } });
  return { w, text: () => Buffer.concat(chunks).toString() };
}

test('off a terminal: the recorded pull output, progress messages left out', async () => {
  const s = sink();
  await displayJsonMessages(messages(PULL), s.w, false);
  assert.equal(s.text(), PULL_PLAIN);
});

test('off a terminal: push output, the aux object goes to the callback only', async () => {
  const s = sink();
  const aux: unknown[] = [];
  await displayJsonMessages(messages(PUSH), s.w, false, (m) => aux.push(m.aux));
  assert.equal(s.text(), `The push refers to repository [127.0.0.1:5050/tr-busybox]
9339bdedf3e4: Preparing
cc61e3219539: Preparing
9339bdedf3e4: Pushed
cc61e3219539: Pushed
latest: digest: sha256:c749c6a4 size: 942
`);
  assert.deepEqual(aux, [{ Tag: 'latest', Digest: 'sha256:c749c6a4', Size: 942 }]);
});

test('on a terminal: one line per id, redrawn with cursor moves, bars drawn from progressDetail', async () => {
  const s = sink();
  await displayJsonMessages(messages(PUSH), s.w, true, undefined, { width: 120 });
  const E = '\x1b[';
  const bar1 = `[>${' '.repeat(50)}]  19.97kB/1.984MB`;
  const bar2 = `[${'='.repeat(50)}>]   2.13MB`;
  assert.equal(s.text(), [
    'The push refers to repository [127.0.0.1:5050/tr-busybox]\n',
    // first id: a new line, up 1, erase, write, down 1
    `\n${E}1A${E}2K\r9339bdedf3e4: Preparing \r${E}1B`,
    // second id: a new line below it
    `\n${E}1A${E}2K\rcc61e3219539: Preparing \r${E}1B`,
    `${E}1A${E}2K\rcc61e3219539: Pushing ${bar1}\r${E}1B`,
    // back up two lines to the first id
    `${E}2A${E}2K\r9339bdedf3e4: Pushed \r${E}2B`,
    `${E}1A${E}2K\rcc61e3219539: Pushing ${bar2}\r${E}1B`,
    `${E}1A${E}2K\rcc61e3219539: Pushed \r${E}1B`,
    'latest: digest: sha256:c749c6a4 size: 942\n',
  ].join(''));
});

test('progress text as docker draws it: narrow terminals drop the bar, wonky totals drop the total', () => {
  assert.equal(progressString({}), '');
  assert.equal(progressString({ current: 32768, total: 3073125 }, { width: 200 }), `[>${' '.repeat(50)}]  32.77kB/3.073MB`);
  assert.equal(progressString({ current: 1536562, total: 3073125 }, { width: 200 }), `[${'='.repeat(24)}>${' '.repeat(26)}]  1.537MB/3.073MB`);
  assert.equal(progressString({ current: 32768, total: 3073125 }, { width: 80 }), ' 32.77kB/3.073MB');
  assert.equal(progressString({ current: 2129920, total: 1984132 }, { width: 80 }), '  2.13MB');
  assert.equal(progressString({ current: 512 }), '    512B');
  assert.equal(progressString({ current: 3, total: 10, units: 'layers' }, { width: 80 }), '3/10 layers');
  assert.equal(progressString({ current: 50, total: 100, start: 1000 }, { width: 80, now: 1010_000 }), '     50B/100B 10s');
});

test('an error message ends the stream with its text; a new non-progress line resets the ids', async () => {
  const s = sink();
  await assert.rejects(displayJsonMessages(messages(`{"status":"Pulling fs layer","progressDetail":{},"id":"a"}
{"errorDetail":{"message":"unknown blob"},"error":"unknown blob"}`), s.w, false), (e: unknown) => e instanceof StreamError && e.message === 'unknown blob');
  const t = sink();
  await displayJsonMessages(messages(`{"status":"x","progressDetail":{},"id":"a"}
{"status":"between"}
{"status":"y","progressDetail":{},"id":"a"}`), t.w, true, undefined, { width: 120 });
  // after "between" the id is new again: a fresh line
  assert.equal(t.text(), '\n\x1b[1A\x1b[2K\ra: x \r\x1b[1Bbetween\n\n\x1b[1A\x1b[2K\ra: y \r\x1b[1B');
});
