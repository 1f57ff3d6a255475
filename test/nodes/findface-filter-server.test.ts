// camera_group_in with groups from a findface-server: the fake FindFace's
// camera list (cameras 1, 2 in group 1; camera 3 in group 2), the node's own
// map winning where both know a camera, waiting for the first load.
import assert from 'assert/strict';
import helper from '../support/helper';
import { sleep, waitFor } from '../support/wait';
import { FakeFindFace } from '../support/fake-findface';
import { seedEvent } from '../fixtures/events';

const filterNode = require('../../nodes/filter/findface-filter.js');
const serverNode = require('../../nodes/server/findface-server.js');

describe('findface-filter node with camera groups from a FindFace server', function () {
  this.timeout(15000);
  let fake: FakeFindFace;
  beforeEach(async () => (fake = await FakeFindFace.start()));
  afterEach(async () => {
    await helper.unload();
    await fake.close();
  });

  async function load(props: Record<string, unknown>) {
    await helper.load(
      [serverNode, filterNode],
      [
        { id: 'tab', type: 'tab' },
        { id: 's1', type: 'findface-server', url: fake.url, timeout: 2000 },
        {
          id: 'filter',
          type: 'findface-filter',
          z: 'tab',
          filters: '{"camera_group_in": [2]}',
          outputs: 2,
          cameraGroups: '{}',
          server: 's1',
          wires: [['pass'], ['fail']],
          ...props,
        },
        { id: 'pass', type: 'helper', z: 'tab' },
        { id: 'fail', type: 'helper', z: 'tab' },
      ],
      { s1: { token: fake.token } },
    );
    const passed: any[] = [];
    const failed: any[] = [];
    helper.getNode('pass').on('input', (msg: any) => passed.push(msg.payload.camera));
    helper.getNode('fail').on('input', (msg: any) => failed.push(msg.payload.camera));
    return { passed, failed, send: (camera: number) => helper.getNode('filter').receive({ payload: { ...seedEvent, camera } }) };
  }

  it('takes the group of a 3.x event from the server, even for the first events sent before the list loaded', async () => {
    fake.delayMs = 200;
    const flow = await load({});
    flow.send(3);
    flow.send(1);
    await waitFor(() => flow.passed.length + flow.failed.length === 2, 5000, 'both events judged');
    assert.deepEqual(flow.passed, [3]);
    assert.deepEqual(flow.failed, [1]);
  });

  it("lets the node's own map win over the server", async () => {
    const flow = await load({ cameraGroups: '{"1": 2, "3": 1}' });
    for (const camera of [1, 2, 3]) flow.send(camera);
    await waitFor(() => flow.passed.length + flow.failed.length === 3, 5000, 'three events judged');
    assert.deepEqual(flow.passed, [1]);
    assert.deepEqual(flow.failed, [2, 3]);
  });

  it('reloads the camera list on msg.refresh', async () => {
    const flow = await load({});
    flow.send(9);
    await waitFor(() => flow.failed.length === 1, 5000, 'camera 9 unknown');
    fake.cameras.push({ id: 9, group: 2, name: 'New gate' });
    const before = fake.requestsTo('/cameras/').length;
    helper.getNode('filter').receive({ refresh: true });
    await waitFor(() => fake.requestsTo('/cameras/').length > before, 5000, 'a reload');
    await sleep(100);
    flow.send(9);
    await waitFor(() => flow.passed.length === 1, 5000, 'camera 9 in group 2');
  });
});
