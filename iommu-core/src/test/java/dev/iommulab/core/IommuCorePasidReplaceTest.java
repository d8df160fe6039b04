package dev.iommulab.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * iommu_replace_device_pasid() and iommu_attach_device_pasid() without a handle (iommu.c): the pasid_array
 * entry changes only once the driver's set_dev_pasid (with the old domain) succeeded, and every refusal leaves
 * the entry, its handle and the driver's programming as they were.
 */
class IommuCorePasidReplaceTest {

    private static final int PASID = 7;

    private final EventLoop loop = new EventLoop(1);
    private final FrameAllocator frames = new FrameAllocator(new PhysicalMemory(16L << 20), 1L << 20,
            new FailureInjector());
    private final RecordingOps ops = new RecordingOps().withDomains(frames);
    private final IommuCore core = new IommuCore();
    private final Device dev = core.probeDevice(new PcieEndpoint(new EndpointConfig("acc", 0x30,
            DeviceProfile.ACCELERATOR, true, true, 8, 8, 8, 4), loop, TimingModel.ESTIMATES), ops);
    private final IommuDomain first = core.pagingDomainAlloc(dev);
    private final IommuDomain second = core.pagingDomainAlloc(dev);
    private final AttachHandle firstHandle = new AttachHandle(first);

    private void attachFirst() {
        core.attachDevicePasid(first, dev, PASID, firstHandle);
    }

    private void assertUnchanged() {
        assertThat(dev.group().pasidArray()).isEqualTo(Map.of(PASID, firstHandle));
        assertThat(ops.pasidProgrammed).containsEntry(RecordingOps.key(dev, PASID), first);
    }

    /**
     * iommu_replace_device_pasid() calls set_dev_pasid(new, old) without a teardown in between and stores the
     * new handle.
     */
    @Test
    void replaceDevicePasid_attachedPasid_callsSetDevPasidWithOldAndSwapsHandle() {
        attachFirst();
        AttachHandle secondHandle = new AttachHandle(second);

        core.replaceDevicePasid(second, dev, PASID, secondHandle);

        assertThat(ops.pasidCalls).extracting(RecordingOps.PasidCall::op).containsExactly("set", "replace");
        assertThat(dev.group().pasidArray()).isEqualTo(Map.of(PASID, secondHandle));
        assertThat(ops.pasidProgrammed).containsEntry(RecordingOps.key(dev, PASID), second);
    }

    /** Replacing with the same domain but a new handle does not call the driver; only the handle changes. */
    @Test
    void replaceDevicePasid_sameDomainNewHandle_onlySwapsHandle() {
        attachFirst();
        AttachHandle again = new AttachHandle(first);

        core.replaceDevicePasid(first, dev, PASID, again);

        assertThat(ops.pasidCalls).hasSize(1);
        assertThat(dev.group().pasidArray().get(PASID)).isSameAs(again);
    }

    /**
     * The refusals of iommu_replace_device_pasid(): nothing attached, IOMMU_NO_PASID, no handle, or the handle
     * already there are -EINVAL; a device without group is -ENODEV. Nothing changes.
     */
    @Test
    void replaceDevicePasid_badArguments_throwEinvalAndChangeNothing() {
        attachFirst();
        Device orphan = new Device("orphan", 0x40, 256, ops, false, false);

        assertThat(errno(() -> core.replaceDevicePasid(second, dev, PASID + 1, new AttachHandle(second))))
                .isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> core.replaceDevicePasid(second, dev, IommuCore.IOMMU_NO_PASID,
                new AttachHandle(second)))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> core.replaceDevicePasid(second, dev, PASID, null))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> core.replaceDevicePasid(first, dev, PASID, firstHandle))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> core.replaceDevicePasid(second, orphan, PASID, new AttachHandle(second))))
                .isEqualTo(Errno.ENODEV);
        assertThat(ops.pasidCalls).hasSize(1);
        assertUnchanged();
        assertThat(dev.group().pasidDomains()).containsOnlyKeys(PASID);
    }

    /** A failing set_dev_pasid(new, old) keeps the old domain at the PASID ("keep the old configuration"). */
    @Test
    void replaceDevicePasid_driverFails_keepsOldDomainAndHandle() {
        attachFirst();
        ops.failSetDevPasid = new KernelException(Errno.ENOSPC, "did", "no domain id");

        assertThat(errno(() -> core.replaceDevicePasid(second, dev, PASID, new AttachHandle(second))))
                .isEqualTo(Errno.ENOSPC);

        assertUnchanged();
    }

    /** A domain whose ops have no replace (the SPI default) refuses with -EOPNOTSUPP. */
    @Test
    void replaceDevicePasid_driverWithoutReplace_throwsEopnotsupp() {
        IommuDomainOps setOnly = new IommuDomainOps() {
            @Override
            public void setDevPasid(IommuDomain domain, Device d, int pasid) {
            }
        };
        IommuOps plain = new IommuOps() {
            private final IommuDomain blocked = new IommuDomain(DomainType.BLOCKED, this, setOnly, null);

            @Override
            public String name() {
                return "PLAIN";
            }

            @Override
            public void probeDevice(Device d, PcieEndpoint pci) {
            }

            @Override
            public IommuDomain blockedDomain() {
                return blocked;
            }

            @Override
            public void pageResponse(Device d, dev.iommulab.core.fault.IommuFault evt,
                                     dev.iommulab.core.fault.PageResponse msg) {
            }
        };
        Device other = core.probeDevice(new PcieEndpoint(new EndpointConfig("acc2", 0x50, DeviceProfile.ACCELERATOR,
                true, true, 8, 8, 8, 4), loop, TimingModel.ESTIMATES), plain);
        IommuDomain a = new IommuDomain(DomainType.UNMANAGED, plain, setOnly, null);
        IommuDomain b = new IommuDomain(DomainType.UNMANAGED, plain, setOnly, null);
        AttachHandle handle = new AttachHandle(a);
        core.attachDevicePasid(a, other, PASID, handle);

        assertThat(errno(() -> core.replaceDevicePasid(b, other, PASID, new AttachHandle(b))))
                .isEqualTo(Errno.EOPNOTSUPP);
        assertThat(other.group().pasidArray()).isEqualTo(Map.of(PASID, handle));
    }

    /**
     * iommu_attach_device_pasid() with a NULL handle stores a bare domain entry: the PASID is taken (-EBUSY for
     * the next attach) but iommu_attach_handle_get() finds no handle (-ENOENT).
     */
    @Test
    void attachDevicePasid_withoutHandle_takesPasidButHasNoHandle() {
        core.attachDevicePasid(first, dev, PASID, null);

        assertThat(dev.group().pasidDomains()).isEqualTo(Map.of(PASID, first));
        assertThat(dev.group().pasidArray()).isEmpty();
        assertThat(errno(() -> core.attachHandleGet(dev.group(), PASID, null))).isEqualTo(Errno.ENOENT);
        assertThat(errno(() -> core.attachDevicePasid(second, dev, PASID, null))).isEqualTo(Errno.EBUSY);
        core.detachDevicePasid(first, dev, PASID);
        assertThat(dev.group().pasidDomains()).isEmpty();
    }

    private static Errno errno(Runnable call) {
        return catchThrowableOfType(KernelException.class, call::run).errno();
    }
}
