import { strict as assert } from "assert";
import { findWyoming } from "../helpers/zeroconf-browse";
import { advertise } from "../../src/core/wyoming/zeroconf";

describe("wyoming zeroconf", function () {
  this.timeout(20000);

  it("advertises _wyoming._tcp with the port, so Home Assistant's Wyoming integration can discover it; stop() withdraws it", async () => {
    const name = `voice-stream-test-${process.pid}`;
    const ad = advertise(name, 10777);
    try {
      const found = await findWyoming(name, 8000);
      assert.deepEqual(found, { port: 10777, type: "wyoming", protocol: "tcp" });
    } finally {
      await ad.stop();
    }
  });
});
