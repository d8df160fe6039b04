package dev.iommulab.hw.virtio;

import static dev.iommulab.hw.virtio.VirtqFixture.DATA;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Notification suppression (virtio 1.x §2.7.7, §2.7.10, research §1.4): the flags without
 * {@code VIRTIO_F_EVENT_IDX}, {@code used_event}/{@code avail_event} with it, on both sides.
 */
class NotificationTest {

    private static final int Q = 8;

    private final VirtqFixture f = new VirtqFixture(Q);

    private static DescriptorChain chain(PopResult r) {
        return ((PopResult.Popped) r).chain();
    }

    @Test
    void needEvent_usedEventZero_trueAfterFirstThenOnlyAfterWrap() {
        assertThat(Virtq.needEvent(0, 1, 0)).isTrue();
        assertThat(Virtq.needEvent(0, 2, 1)).isFalse();
        assertThat(Virtq.needEvent(0, 0xffff, 0xfffe)).isFalse();
        assertThat(Virtq.needEvent(0, 1, 0xffff)).isTrue(); // the 65536th after the first: 0 is crossed again
        assertThat(Virtq.needEvent(5, 9, 3)).isTrue(); // a batch 3 -> 9 crosses 5
        assertThat(Virtq.needEvent(9, 9, 3)).isFalse();
    }

    @Test
    void needsNotification_noEventIdx_followsAvailNoInterruptFlag() {
        VirtqueueDriver<String> driver = VirtqueueDriver.create(f.memory, f.layout, false);
        VirtqueueDevice device = new VirtqueueDevice(f.memory, f.layout, false);
        driver.addSgs(List.of(new Segment(DATA, 4)), List.of(), "a");
        device.push(chain(device.pop()), 0);

        assertThat(device.needsNotification()).isTrue();
        f.u16(f.layout.availAddr(), Virtq.AVAIL_F_NO_INTERRUPT);
        assertThat(device.needsNotification()).isFalse();
    }

    @Test
    void needsNotification_eventIdx_onlyWhenUsedEventCrossed() {
        VirtqueueDevice device = new VirtqueueDevice(f.memory, f.layout, true);
        f.rawDesc(0, DATA, 4, Virtq.DESC_F_WRITE, 0);
        for (int i = 0; i < 4; i++) {
            f.publish(i, 0, i + 1);
        }
        f.u16(f.layout.availAddr(), Virtq.AVAIL_F_NO_INTERRUPT); // ignored with EVENT_IDX
        f.u16(f.layout.usedEvent(), 2); // "interrupt me when used.idx passes 2"

        device.push(chain(device.pop()), 4);
        boolean first = device.needsNotification(); // never decided before: always
        device.push(chain(device.pop()), 4);
        boolean second = device.needsNotification(); // 1 -> 2 does not pass 2
        device.push(chain(device.pop()), 4);
        boolean third = device.needsNotification(); // 2 -> 3 passes 2
        device.push(chain(device.pop()), 4);
        boolean fourth = device.needsNotification();

        assertThat(List.of(first, second, third, fourth)).containsExactly(true, false, true, false);
    }

    @Test
    void pop_eventIdx_writesAvailEventAfterEachChain() {
        VirtqueueDriver<String> driver = VirtqueueDriver.create(f.memory, f.layout, true);
        VirtqueueDevice device = new VirtqueueDevice(f.memory, f.layout, true);
        driver.addSgs(List.of(new Segment(DATA, 4)), List.of(), "a");
        driver.addSgs(List.of(new Segment(DATA, 4)), List.of(), "b");

        device.pop();
        int afterOne = f.u16(f.layout.availEvent());
        device.pop();

        assertThat(afterOne).isEqualTo(1);
        assertThat(f.u16(f.layout.availEvent())).isEqualTo(2);
    }

    @Test
    void kickPrepare_noEventIdx_followsUsedNoNotifyFlag() {
        VirtqueueDriver<String> driver = VirtqueueDriver.create(f.memory, f.layout, false);
        VirtqueueDevice device = new VirtqueueDevice(f.memory, f.layout, false);
        driver.addSgs(List.of(new Segment(DATA, 4)), List.of(), "a");
        boolean wanted = driver.kickPrepare();

        device.setNotification(false);
        driver.addSgs(List.of(new Segment(DATA, 4)), List.of(), "b");

        assertThat(wanted).isTrue();
        assertThat(f.u16(f.layout.usedFlags())).isEqualTo(Virtq.USED_F_NO_NOTIFY);
        assertThat(driver.kickPrepare()).isFalse();
        device.setNotification(true);
        assertThat(f.u16(f.layout.usedFlags())).isZero();
        assertThat(driver.kickPrepare()).isTrue();
    }

    @Test
    void kickPrepare_eventIdx_onlyWhenAvailEventCrossedByTheBatch() {
        VirtqueueDriver<String> driver = VirtqueueDriver.create(f.memory, f.layout, true);
        VirtqueueDevice device = new VirtqueueDevice(f.memory, f.layout, true);
        device.setNotification(true); // avail_event = avail.idx = 0: "kick me when you add the first"

        driver.addSgs(List.of(new Segment(DATA, 4)), List.of(), "a");
        driver.addSgs(List.of(new Segment(DATA, 4)), List.of(), "b");
        boolean batch = driver.kickPrepare(); // 0 -> 2 crosses 0
        driver.addSgs(List.of(new Segment(DATA, 4)), List.of(), "c");
        boolean unseen = driver.kickPrepare(); // device has not moved avail_event: 2 -> 3 does not cross 0
        device.pop();
        device.pop();
        device.pop(); // avail_event = 3
        driver.addSgs(List.of(new Segment(DATA, 4)), List.of(), "d");
        driver.addSgs(List.of(new Segment(DATA, 4)), List.of(), "e");

        assertThat(batch).isTrue();
        assertThat(unseen).isFalse();
        assertThat(f.u16(f.layout.availEvent())).isEqualTo(3);
        assertThat(driver.kickPrepare()).isTrue(); // 3 -> 5 crosses 3
    }

    @Test
    void getBuf_returnsBuffer_setsUsedEventToNewPosition() {
        VirtqueueDriver<String> driver = VirtqueueDriver.create(f.memory, f.layout, true);
        VirtqueueDevice device = new VirtqueueDevice(f.memory, f.layout, true);
        driver.addSgs(List.of(), List.of(new Segment(DATA, 4)), "a");
        driver.addSgs(List.of(), List.of(new Segment(DATA, 4)), "b");
        device.push(chain(device.pop()), 1);
        device.push(chain(device.pop()), 2);

        driver.getBuf();
        int afterOne = f.u16(f.layout.usedEvent());
        driver.getBuf();

        assertThat(afterOne).isEqualTo(1);
        assertThat(f.u16(f.layout.usedEvent())).isEqualTo(2);
    }

    /** research §1.3: BAD_RING("id %u out of range") breaks the guest's queue; nothing more is returned. */
    @Test
    void getBuf_usedIdOutOfRange_breaksQueue() {
        VirtqueueDriver<String> driver = VirtqueueDriver.create(f.memory, f.layout, false);
        driver.addSgs(List.of(new Segment(DATA, 4)), List.of(), "a");
        f.memory.writeInt(f.layout.usedElem(0), 9);
        f.u16(f.layout.usedIdx(), 1);

        assertThat(driver.getBuf()).isEmpty();
        assertThat(driver.broken()).isTrue();
        assertThat(driver.brokenMessage()).isEqualTo("id 9 out of range");
        f.memory.writeInt(f.layout.usedElem(0), 0);
        assertThat(driver.getBuf()).isEmpty();
        assertThat(driver.numFree()).isEqualTo(Q - 1);
    }

    /** BAD_RING("id %u is not a head!"): an id inside a chain, or of no outstanding chain. */
    @Test
    void getBuf_usedIdNotAHead_breaksQueue() {
        VirtqueueDriver<String> driver = VirtqueueDriver.create(f.memory, f.layout, false);
        driver.addSgs(List.of(new Segment(DATA, 4)), List.of(new Segment(DATA + 4, 4)), "a");
        f.memory.writeInt(f.layout.usedElem(0), 1);
        f.u16(f.layout.usedIdx(), 1);

        assertThat(driver.getBuf()).isEmpty();
        assertThat(driver.brokenMessage()).isEqualTo("id 1 is not a head!");
        assertThat(driver.hasUsed()).isFalse();
    }
}
