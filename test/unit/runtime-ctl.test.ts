// conmon's winsz messages (src/runtime/ctl.ts): padded to the 199 bytes conmon reads at a time,
// so that one read takes exactly one (conmon < 2.2 applies the first line of a read to all).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { winsizeMessage } from '../../src/runtime/ctl';

test('a winsz message is one line of 199 bytes that reads as "<height> <width>", clamped', () => {
  for (const [h, w, text] of [[24, 80, '24 80'], [0, 0, '0 0'], [70000, -3, '65535 0'], [25.9, 81.2, '25 81']] as const) {
    const m = winsizeMessage(h, w);
    assert.equal(Buffer.byteLength(m), 199);
    assert.equal(m.indexOf('\n'), 198);
    assert.equal(m.trim(), text);
  }
});
