import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tabwrite } from '../../src/cli/format/tabwriter';
import { renderFormat, ellipsis } from '../../src/cli/format/formatter';
import { ContainerContext, CONTAINER_HEADERS, DEFAULT_PS_FORMAT, DEFAULT_IMAGES_FORMAT, IMAGE_HEADERS, imageRows } from '../../src/cli/format/contexts';
import { displayablePorts } from '../../src/cli/format/ports';
import { indentJson } from '../../src/cli/format/json';
import type { ContainerSummary, ImageSummary } from '../../src/client/types';

test('tabwriter like Go (minwidth 10, padding 3)', () => {
  assert.equal(tabwrite('A\tB\tC\nlonger value\tx\ty\n'), 'A              B         C\nlonger value   x         y\n');
  // empty cells still take the minimum width; the last cell is not padded
  assert.equal(tabwrite('ID\tPORTS\tNAMES\nabc\t\tweb\n'), 'ID        PORTS     NAMES\nabc                 web\n');
});

const now = Date.UTC(2026, 10, 24, 19, 14, 0);
const c: ContainerSummary = {
  Id: '1c6f598fb00f2c1d7e0a53b84fc4f5b7e4d9b7f8a1d04c2a9e8f7d6c5b4a3f21', Names: ['/tr-d'], Image: 'busybox',
  ImageID: 'sha256:3ed67ab9aaaa', Command: "sh -c 'i=0; while true; do echo \"line $i\"; done'", Created: now / 1000 - 90,
  Ports: [{ IP: '127.0.0.1', PrivatePort: 80, PublicPort: 18080, Type: 'tcp' }], Labels: { tr: '1' }, State: 'running',
  Status: 'Up About a minute',
};

test('ps table', () => {
  const out = renderFormat(DEFAULT_PS_FORMAT, [new ContainerContext(c, true, now)], CONTAINER_HEADERS);
  const lines = out.split('\n');
  assert.equal(lines[0], 'CONTAINER ID   IMAGE     COMMAND                  CREATED              STATUS              PORTS                     NAMES');
  assert.equal(lines[1], '1c6f598fb00f   busybox   "sh -c \'i=0; while t…"   About a minute ago   Up About a minute   127.0.0.1:18080->80/tcp   tr-d');
  assert.equal(lines.length, 3);
  // header even with no rows
  assert.equal(renderFormat(DEFAULT_PS_FORMAT, [], CONTAINER_HEADERS), 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
});

test('ps custom formats', () => {
  const ctx = new ContainerContext(c, true, now);
  assert.equal(renderFormat('{{.ID}} {{.Names}} {{.Label "tr"}}', [ctx], CONTAINER_HEADERS), '1c6f598fb00f tr-d 1\n');
  assert.equal(renderFormat('table {{.Names}}\\t{{.Status}}', [ctx], CONTAINER_HEADERS), 'NAMES     STATUS\ntr-d      Up About a minute\n');
  const j = JSON.parse(renderFormat('{{json .}}', [ctx], CONTAINER_HEADERS));
  assert.equal(j.ID, '1c6f598fb00f');
  assert.equal(j.Names, 'tr-d');
  assert.equal(j.Labels, 'tr=1');
  assert.equal(new ContainerContext(c, false, now).ID(), c.Id);
});

test('images table', () => {
  const img: ImageSummary = {
    Id: 'sha256:3ed67ab9e2a1f00000000000000000000000000000000000000000000000000', ParentId: '', RepoTags: ['busybox:latest', 'tr-busybox:1'],
    RepoDigests: null, Created: now / 1000 - 12 * 60, Size: 1984132, SharedSize: -1, Labels: null, Containers: -1,
  };
  const none: ImageSummary = { ...img, Id: 'sha256:adf1614cd2a2' + '0'.repeat(52), RepoTags: [], Created: now / 1000 - 3600 * 5 };
  const out = renderFormat(DEFAULT_IMAGES_FORMAT, imageRows([img, none], { now }), IMAGE_HEADERS);
  assert.equal(out,
    'REPOSITORY   TAG       IMAGE ID       CREATED          SIZE\n' +
    'busybox      latest    3ed67ab9e2a1   12 minutes ago   1.98MB\n' +
    'tr-busybox   1         3ed67ab9e2a1   12 minutes ago   1.98MB\n' +
    '<none>       <none>    adf1614cd2a2   5 hours ago      1.98MB\n');
});

test('ports column', () => {
  assert.equal(displayablePorts([{ IP: '127.0.0.1', PrivatePort: 80, PublicPort: 18080, Type: 'tcp' }]), '127.0.0.1:18080->80/tcp');
  assert.equal(displayablePorts([{ PrivatePort: 80, Type: 'tcp' }, { PrivatePort: 81, Type: 'tcp' }, { PrivatePort: 53, Type: 'udp' }]), '53/udp, 80-81/tcp');
  assert.equal(displayablePorts([{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 80, Type: 'tcp' }]), '0.0.0.0:80->80/tcp');
  assert.equal(displayablePorts([{ IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }]), '[::]:8080->80/tcp');
  assert.equal(displayablePorts(null), '');
});

test('ellipsis and JSON indentation', () => {
  assert.equal(ellipsis('sh -c echo hi', 20), 'sh -c echo hi');
  assert.equal(ellipsis('abcdefghijklmnopqrstuvwxyz', 20), 'abcdefghijklmnopqrs…');
  assert.equal(indentJson('[{"a":1,"b":[],"c":{},"d":[1,2],"e":"x,y:{"}]'),
    '[\n    {\n        "a": 1,\n        "b": [],\n        "c": {},\n        "d": [\n            1,\n            2\n        ],\n        "e": "x,y:{"\n    }\n]');
});
