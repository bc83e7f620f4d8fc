// The images of a compose project: `compose build` (build args, target, the default
// project-service name), `up --build` recreating what a rebuild changed, `compose push` to a
// registry (only built services with an image name), `compose pull` (--ignore-buildable),
// `up --pull always|never`, `up --no-build`.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';
import { httpRequest, startRegistry, type TestRegistry } from '../helpers/registry';

let d: TestDaemon;
useDaemon((x) => { d = x; });
let reg: TestRegistry;
let file: string;
const P = 'imgs';

before(async () => { reg = await startRegistry(); });
after(async () => { await reg?.stop(); });

/** The project's files and the tool image in the registry (the daemon is up once a test runs). */
async function setup(): Promise<void> {
  const dir = path.join(d.root, 'imgs');
  fs.mkdirSync(path.join(dir, 'app'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'app', 'Dockerfile'), [
    'FROM busybox AS base',
    'ARG GREETING=none',
    'RUN echo "$GREETING" > /greeting',
    'FROM base AS final',
    'RUN echo final > /stage',
    'FROM base AS other',
    'RUN echo other > /stage',
    '',
  ].join('\n'));
  file = path.join(dir, 'compose.yaml');
  writeFile('one');
  await d.dockerOk(['tag', 'busybox:latest', `${reg.host}/compose/tool:1`]);
  await d.dockerOk(['push', `${reg.host}/compose/tool:1`]);
}

function writeFile(greeting: string): void {
  fs.writeFileSync(file, `services:
  app:
    image: ${reg.host}/compose/app:1
    build:
      context: ./app
      target: final
      args:
        GREETING: ${greeting}
    command: ["sleep", "1000"]
    stop_grace_period: 1s
  local:
    build: ./app
    command: ["sleep", "1000"]
    stop_grace_period: 1s
  tool:
    image: ${reg.host}/compose/tool:1
    command: ["sleep", "1000"]
    stop_grace_period: 1s
`);
}

const compose = (...args: string[]) => d.berth(['compose', '-f', file, '-p', P, ...args], { timeout: 180_000 });
async function composeOk(...args: string[]): Promise<string> {
  const r = await compose(...args);
  assert.equal(r.code, 0, `berth compose ${args.join(' ')}: ${r.stderr}`);
  return r.stderr;
}
const cat = (ctr: string, f: string) => d.dockerOk(['exec', ctr, 'cat', f]).then((s) => s.trim());

test('build: args and target; a service without image: is named project-service', { timeout: 300_000 }, async () => {
  await setup();
  await composeOk('build');
  await d.dockerOk(['image', 'inspect', `${reg.host}/compose/app:1`]);
  await d.dockerOk(['image', 'inspect', `${P}-local`]);
  await composeOk('up', '-d');
  assert.equal(await cat(`${P}-app-1`, '/greeting'), 'one');
  assert.equal(await cat(`${P}-app-1`, '/stage'), 'final');
  assert.equal(await cat(`${P}-local-1`, '/stage'), 'other', 'no target: the last stage');
});

test('up --build: a rebuilt image recreates its containers, the others are kept', { timeout: 300_000 }, async () => {
  const id = (c: string) => d.dockerOk(['inspect', '--format', '{{.Id}}', c]).then((s) => s.trim());
  const before1 = { app: await id(`${P}-app-1`), local: await id(`${P}-local-1`), tool: await id(`${P}-tool-1`) };
  writeFile('two');
  const out = await composeOk('up', '-d', '--build');
  assert.ok(out.includes(`Container ${P}-app-1 Recreated`), out);
  assert.notEqual(await id(`${P}-app-1`), before1.app);
  assert.equal(await id(`${P}-tool-1`), before1.tool);
  // local's build is all cached: same image, same container
  assert.equal(await id(`${P}-local-1`), before1.local);
  assert.equal(await cat(`${P}-app-1`, '/greeting'), 'two');
});

test('push: built services with an image name go to the registry', { timeout: 300_000 }, async () => {
  await composeOk('push');
  const m = await httpRequest('GET', `${reg.url}/v2/compose/app/manifests/1`, undefined, { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' });
  assert.equal(m.status, 200);
  const tags = await httpRequest('GET', `${reg.url}/v2/_catalog`);
  assert.deepEqual(JSON.parse(tags.body.toString()).repositories.sort(), ['compose/app', 'compose/tool']);
});

test('pull, --ignore-buildable, up --pull never|always, --no-build', { timeout: 300_000 }, async () => {
  await composeOk('down', '-t', '1');
  await d.dockerOk(['rmi', `${reg.host}/compose/app:1`, `${reg.host}/compose/tool:1`]);
  const skipped = await composeOk('pull', '--ignore-buildable');
  assert.match(skipped, /tool Pulled/);
  assert.doesNotMatch(skipped, /app Pull/);
  assert.equal((await d.docker(['image', 'inspect', `${reg.host}/compose/app:1`])).code, 1);
  await composeOk('pull', 'app');
  await d.dockerOk(['image', 'inspect', `${reg.host}/compose/app:1`]);

  await d.dockerOk(['rmi', `${reg.host}/compose/tool:1`]);
  const never = await compose('up', '-d', '--pull', 'never', 'tool');
  assert.equal(never.code, 1);
  assert.match(never.stderr, /image .*compose\/tool:1 is not present and pull_policy is never/);
  const always = await composeOk('up', '-d', '--pull', 'always', 'tool');
  assert.match(always, /tool Pulled/);

  await composeOk('down', '-t', '1', '--rmi', 'local');
  assert.equal((await d.docker(['image', 'inspect', `${P}-local`])).code, 1);
  const noBuild = await compose('up', '-d', '--no-build', 'local');
  assert.equal(noBuild.code, 1);
  assert.match(noBuild.stderr, /service "local"/);
  await composeOk('down', '-t', '1');
});
