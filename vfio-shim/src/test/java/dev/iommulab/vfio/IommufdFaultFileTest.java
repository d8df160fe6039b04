package dev.iommulab.vfio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.fixtures.RecordingIommuOps;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The fault file of an iommufd fault object, byte for byte: iommufd_fault_fops_read(), iommufd_fault_fops_write(),
 * iommufd_eventq_fops_poll() and iommufd_auto_response_faults() (drivers/iommu/iommufd/eventq.c), reference
 * linux-fault-stack.md §5.2-§5.5 and §8 items 34-40.
 */
class IommufdFaultFileTest {

    /** A group as io-pgfault hands it over; only what the fault object reads of it. */
    private record Group(AttachHandle attachHandle, List<IommuFault> faults) implements IopfGroup {
        @Override
        public Device device() {
            return null;
        }

        @Override
        public IommuFault lastFault() {
            return faults.get(faults.size() - 1);
        }

        @Override
        public void queueWork(String label, Runnable work) {
            work.run();
        }
    }

    private record Answer(IopfGroup group, PageResponseCode code, ResponseOrigin origin) {
    }

    /** The domains here are never attached: a driver that only records. */
    private static final RecordingIommuOps OPS = new RecordingIommuOps("TEST");

    private final AttachHandle handleA = new AttachHandle(new IommuDomain(DomainType.UNMANAGED, OPS, OPS, null));
    private final AttachHandle handleB = new AttachHandle(new IommuDomain(DomainType.UNMANAGED, OPS, OPS, null));
    private final List<Answer> answers = new ArrayList<>();
    private final List<IopfGroup> freed = new ArrayList<>();
    private final IommufdFault fault = new IommufdFault(new IommufdFault.Responder() {
        @Override
        public void respond(IopfGroup group, PageResponseCode code, ResponseOrigin origin) {
            answers.add(new Answer(group, code, origin));
        }

        @Override
        public void free(IopfGroup group) {
            freed.add(group);
        }
    }, h -> h == handleA ? 7 : 9);

    private static IommuFault fault(int flags, int grpid, int perm, long addr) {
        return new IommuFault(IommuFault.IOMMU_FAULT_PAGE_REQ, flags | IommuFault.PAGE_REQUEST_PASID_VALID, 5, grpid,
                perm, addr);
    }

    private Group group(AttachHandle handle, int grpid, int pages) {
        List<IommuFault> faults = new ArrayList<>();
        for (int i = 0; i < pages; i++) {
            faults.add(fault(i == pages - 1 ? IommuFault.PAGE_REQUEST_LAST_PAGE : 0, grpid, IommuFault.PERM_READ,
                    0x7f0000000000L + i * 0x1000L));
        }
        Group g = new Group(handle, faults);
        fault.iopfHandler(g);
        return g;
    }

    private static byte[] responses(int... cookieCode) {
        ByteBuffer b = ByteBuffer.allocate(cookieCode.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : cookieCode) {
            b.putInt(v);
        }
        return b.array();
    }

    /** §8 item 34: two 40-byte records, same cookie 1, dev_id, flags (LAST_PAGE only on the second), length 0. */
    @Test
    @DisplayName("linux-fault-stack §8 item 34: record layout of a two-request group")
    void read_twoRequestGroup_twoLittleEndianRecordsWithOneCookie() {
        group(handleA, 2, 2);

        byte[] bytes = fault.read(80, 0);

        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(bytes).hasSize(80);
        for (int i = 0; i < 2; i++) {
            assertThat(b.getInt()).as("flags").isEqualTo(i == 0 ? 0x1 : 0x3);
            assertThat(b.getInt()).as("dev_id").isEqualTo(7);
            assertThat(b.getInt()).as("pasid").isEqualTo(5);
            assertThat(b.getInt()).as("grpid").isEqualTo(2);
            assertThat(b.getInt()).as("perm").isEqualTo(IommuFault.PERM_READ);
            assertThat(b.getInt()).as("__reserved").isZero();
            assertThat(b.getLong()).as("addr").isEqualTo(0x7f0000000000L + i * 0x1000L);
            assertThat(b.getInt()).as("length").isZero();
            assertThat(b.getInt()).as("cookie").isEqualTo(1);
        }
        assertThat(fault.undelivered()).isZero();
        assertThat(fault.awaitingResponse()).isEqualTo(1);
    }

    /** §8 item 35: a buffer too small for the whole group reads 0 and keeps it; bad size or offset is ESPIPE. */
    @Test
    @DisplayName("linux-fault-stack §8 item 35: groups are never split; bad size or offset is ESPIPE")
    void read_bufferSmallerThanGroup_returnsNothingAndKeepsGroup() {
        group(handleA, 2, 2);

        assertThat(fault.read(40, 0)).isEmpty();
        assertThat(fault.undelivered()).isEqualTo(1);
        assertThat(catchThrowableOfType(KernelException.class, () -> fault.read(41, 0)).errno())
                .isEqualTo(Errno.ESPIPE);
        assertThat(catchThrowableOfType(KernelException.class, () -> fault.read(80, 40)).errno())
                .isEqualTo(Errno.ESPIPE);
        assertThat(fault.undelivered()).isEqualTo(1);
    }

    /** §8 item 36: FAILURE and unknown cookies are EINVAL; SUCCESS answers once; a repeat is EINVAL; 12 bytes ESPIPE. */
    @Test
    @DisplayName("linux-fault-stack §8 item 36: response validation")
    void write_validation_onlyKnownCookieWithSuccessOrInvalidAnswers() {
        Group g = group(handleA, 2, 1);
        fault.read(40, 0);

        assertThat(catchThrowableOfType(KernelException.class, () -> fault.write(responses(1, 2), 0)).errno())
                .isEqualTo(Errno.EINVAL);
        assertThat(catchThrowableOfType(KernelException.class, () -> fault.write(responses(999, 0), 0)).errno())
                .isEqualTo(Errno.EINVAL);
        assertThat(answers).isEmpty();
        assertThat(fault.write(responses(1, 0), 0)).isEqualTo(8);
        assertThat(catchThrowableOfType(KernelException.class, () -> fault.write(responses(1, 0), 0)).errno())
                .isEqualTo(Errno.EINVAL);
        assertThat(catchThrowableOfType(KernelException.class, () -> fault.write(new byte[12], 0)).errno())
                .isEqualTo(Errno.ESPIPE);
        assertThat(answers).extracting(Answer::group, Answer::code, Answer::origin)
                .containsExactly(tuple(g, PageResponseCode.SUCCESS, ResponseOrigin.IOMMUFD));
        assertThat(freed).containsExactly(g);
    }

    /** §8 item 37: a batch stops at the first bad answer and returns what it consumed. */
    @Test
    @DisplayName("linux-fault-stack §8 item 37: a batch write stops at the first bad answer")
    void write_batchWithBadCookieInMiddle_returnsEightAndLeavesThirdOwed() {
        Group first = group(handleA, 1, 1);
        group(handleA, 3, 1);
        fault.read(80, 0);

        assertThat(fault.write(responses(1, 0, 77, 0, 2, 1), 0)).isEqualTo(8);

        assertThat(answers).extracting(Answer::group).containsExactly(first);
        assertThat(fault.awaitingResponse()).isEqualTo(1);
    }

    /** §8 item 38: an answered cookie is free again; the next group read gets 1 again. */
    @Test
    @DisplayName("linux-fault-stack §8 item 38: cookies are reused lowest first")
    void read_afterCookieOneAnswered_nextGroupGetsCookieOne() {
        group(handleA, 1, 1);
        fault.read(40, 0);
        fault.write(responses(1, 0), 0);
        group(handleA, 2, 1);

        byte[] bytes = fault.read(40, 0);

        assertThat(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt(36)).isEqualTo(1);
    }

    /** §8 item 39: writable always, readable only while a group waits to be read. */
    @Test
    @DisplayName("linux-fault-stack §8 item 39: poll")
    void poll_beforeAndAfterDelivery_readableOnlyWithGroupWaiting() {
        assertThat(fault.poll()).isEqualTo(IommufdFault.POLLOUT);
        group(handleA, 1, 1);
        assertThat(fault.poll()).isEqualTo(IommufdFault.POLLOUT | IommufdFault.POLLIN | IommufdFault.POLLRDNORM);
        fault.read(40, 0);
        assertThat(fault.poll()).isEqualTo(IommufdFault.POLLOUT);
    }

    /**
     * §8 item 40 at the fault object: the detached attachment's unread and read-but-unanswered groups are answered
     * INVALID once each (origin auto-response); another attachment's group is untouched; destroy answers the rest.
     */
    @Test
    @DisplayName("linux-fault-stack §8 items 40 and 42: auto-response on detach, then on destroy")
    void autoResponse_detachedAttachment_itsGroupsInvalidOnceOthersKept() {
        Group read = group(handleA, 1, 1);
        fault.read(40, 0);
        Group unread = group(handleA, 2, 1);
        Group other = group(handleB, 3, 1);

        assertThat(fault.autoResponse(handleA)).isEqualTo(2);
        assertThat(answers).extracting(Answer::group, Answer::code, Answer::origin).containsExactly(
                tuple(unread, PageResponseCode.INVALID, ResponseOrigin.AUTO_RESPONSE),
                tuple(read, PageResponseCode.INVALID, ResponseOrigin.AUTO_RESPONSE));
        assertThat(fault.undelivered()).isEqualTo(1);
        assertThat(fault.awaitingResponse()).isZero();

        assertThat(fault.destroy()).isEqualTo(1);
        assertThat(answers).extracting(Answer::group).containsExactly(unread, read, other);
        assertThat(freed).containsExactlyInAnyOrder(unread, read, other);
    }
}
