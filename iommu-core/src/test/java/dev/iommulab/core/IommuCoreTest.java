package dev.iommulab.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Probe, attach/detach at a PASID and iommu_attach_handle_get() of iommu.c. */
class IommuCoreTest {

    private final EventLoop loop = new EventLoop(1);
    private final RecordingOps ops = new RecordingOps();
    private IommuCore core;
    private Device dev;
    private IommuDomain paging;

    @BeforeEach
    void setUp() {
        core = new IommuCore();
        dev = probe("accel0", 0x0108, 8);
        paging = new IommuDomain(DomainType.UNMANAGED, ops, ops, null);
    }

    private Device probe(String name, int rid, int pasidBits) {
        EndpointConfig config = new EndpointConfig(name, rid, DeviceProfile.ACCELERATOR, true, true, pasidBits, 32,
                16, 4);
        return core.probeDevice(new PcieEndpoint(config, loop, TimingModel.ESTIMATES), ops);
    }

    /**
     * iommu_probe_device() puts the function in a group of its own, asks the driver to probe it and takes
     * max_pasids from the PASID capability. Reference §1.7.
     */
    @Test
    void probeDevice_newFunction_getsOwnGroupAndPasidRange() {
        assertThat(dev.group().devices()).containsExactly(dev);
        assertThat(dev.group().pasidArray()).isEmpty();
        assertThat(dev.maxPasids()).isEqualTo(256);
        assertThat(dev.rid()).isEqualTo(0x0108);
        assertThat(dev.pciName()).isEqualTo("0000:01:01.0");
        assertThat(dev.ops()).isSameAs(ops);
        assertThat(ops.probed).containsExactly(dev);
        assertThat(core.devices()).containsExactly(dev);
    }

    /**
     * iommu_probe_device() twice for one requester ID fails with -EBUSY and adds nothing. Reference DESIGN §6.
     */
    @Test
    void probeDevice_sameRidTwice_throwsEbusyAndKeepsOneDevice() {
        KernelException e = catchThrowableOfType(KernelException.class, () -> probe("again", 0x0108, 8));

        assertThat(e.errno()).isEqualTo(Errno.EBUSY);
        assertThat(e.argument()).isEqualTo("rid");
        assertThat(core.devices()).containsExactly(dev);
        assertThat(ops.probed).containsExactly(dev);
    }

    /**
     * iommu_attach_device_pasid() calls the driver's set_dev_pasid and stores the handle in the group's
     * pasid_array. Reference §1.7.
     */
    @Test
    void attachDevicePasid_freePasid_callsDriverAndPublishesHandle() {
        AttachHandle handle = new AttachHandle(paging);

        core.attachDevicePasid(paging, dev, 5, handle);

        assertThat(dev.group().pasidArray()).containsOnlyKeys(5).containsValue(handle);
        assertThat(ops.pasidCalls).containsExactly(new RecordingOps.PasidCall("set", paging, dev, 5));
        assertThat(core.attachHandleGet(dev.group(), 5, null)).isSameAs(handle);
    }

    /**
     * iommu_attach_device_pasid() at an occupied PASID: the xa_insert fails with -EBUSY; the first handle
     * stays and the driver is not called. Reference §1.7, DESIGN §6.
     */
    @Test
    void attachDevicePasid_pasidTaken_throwsEbusyAndKeepsFirstHandle() {
        AttachHandle first = new AttachHandle(paging);
        core.attachDevicePasid(paging, dev, 5, first);
        IommuDomain other = new IommuDomain(DomainType.UNMANAGED, ops, ops, null);

        KernelException e = catchThrowableOfType(KernelException.class,
                () -> core.attachDevicePasid(other, dev, 5, new AttachHandle(other)));

        assertThat(e.errno()).isEqualTo(Errno.EBUSY);
        assertThat(dev.group().pasidArray()).containsOnlyKeys(5).containsValue(first);
        assertThat(ops.pasidCalls).hasSize(1);
    }

    /**
     * iommu_attach_device_pasid() refuses IOMMU_NO_PASID and PASIDs at or beyond max_pasids with -EINVAL,
     * changing nothing. Reference §1.7, DESIGN §6.
     */
    @Test
    void attachDevicePasid_pasidOutOfRange_throwsEinvalAndChangesNothing() {
        for (int pasid : new int[] {IommuCore.IOMMU_NO_PASID, 256, -1}) {
            KernelException e = catchThrowableOfType(KernelException.class,
                    () -> core.attachDevicePasid(paging, dev, pasid, new AttachHandle(paging)));
            assertThat(e.errno()).as("pasid %d", pasid).isEqualTo(Errno.EINVAL);
            assertThat(e.argument()).isEqualTo("pasid");
        }
        assertThat(dev.group().pasidArray()).isEmpty();
        assertThat(ops.pasidCalls).isEmpty();
    }

    /**
     * iommu_attach_device_pasid() on a device without PASID support: every PASID is out of range, -EINVAL.
     * Reference §1.7.
     */
    @Test
    void attachDevicePasid_deviceWithoutPasid_throwsEinval() {
        Device noPasid = probe("nopasid", 0x0200, 0);

        KernelException e = catchThrowableOfType(KernelException.class,
                () -> core.attachDevicePasid(paging, noPasid, 1, new AttachHandle(paging)));

        assertThat(e.errno()).isEqualTo(Errno.EINVAL);
        assertThat(noPasid.group().pasidArray()).isEmpty();
    }

    /**
     * iommu_attach_device_pasid() with a domain of another driver (domain->owner != dev_iommu_ops()):
     * -EINVAL, nothing attached. Reference §4.1 step 4 (why another mm domain may not attach).
     */
    @Test
    void attachDevicePasid_domainOfOtherDriver_throwsEinvalAndChangesNothing() {
        RecordingOps otherDriver = new RecordingOps();
        IommuDomain foreign = new IommuDomain(DomainType.UNMANAGED, otherDriver, otherDriver, null);

        KernelException e = catchThrowableOfType(KernelException.class,
                () -> core.attachDevicePasid(foreign, dev, 5, new AttachHandle(foreign)));

        assertThat(e.errno()).isEqualTo(Errno.EINVAL);
        assertThat(e.argument()).isEqualTo("domain");
        assertThat(dev.group().pasidArray()).isEmpty();
        assertThat(ops.pasidCalls).isEmpty();
    }

    /**
     * A handle that names another domain is refused with -EINVAL (the kernel sets handle->domain itself).
     * Reference §1.7.
     */
    @Test
    void attachDevicePasid_handleForOtherDomain_throwsEinval() {
        IommuDomain other = new IommuDomain(DomainType.UNMANAGED, ops, ops, null);

        KernelException e = catchThrowableOfType(KernelException.class,
                () -> core.attachDevicePasid(paging, dev, 5, new AttachHandle(other)));

        assertThat(e.errno()).isEqualTo(Errno.EINVAL);
        assertThat(e.argument()).isEqualTo("handle");
        assertThat(dev.group().pasidArray()).isEmpty();
    }

    /**
     * When the driver's set_dev_pasid fails, iommu_attach_device_pasid() erases the pasid_array entry again:
     * the error propagates and no handle is published. Reference §1.7, DESIGN §6.
     */
    @Test
    void attachDevicePasid_driverFails_propagatesErrorAndPublishesNothing() {
        ops.failSetDevPasid = new KernelException(Errno.ENODEV, "dev", "no PRI");

        KernelException e = catchThrowableOfType(KernelException.class,
                () -> core.attachDevicePasid(paging, dev, 5, new AttachHandle(paging)));

        assertThat(e.errno()).isEqualTo(Errno.ENODEV);
        assertThat(dev.group().pasidArray()).isEmpty();
    }

    /**
     * iommu_detach_device_pasid() removes the handle and lets the driver tear the PASID down.
     * Reference §4.2.
     */
    @Test
    void detachDevicePasid_attachedDomain_removesHandleAndCallsDriver() {
        core.attachDevicePasid(paging, dev, 5, new AttachHandle(paging));

        core.detachDevicePasid(paging, dev, 5);

        assertThat(dev.group().pasidArray()).isEmpty();
        assertThat(ops.pasidCalls).last().isEqualTo(new RecordingOps.PasidCall("remove", paging, dev, 5));
        assertThat(catchThrowableOfType(KernelException.class,
                () -> core.attachHandleGet(dev.group(), 5, null)).errno()).isEqualTo(Errno.ENOENT);
    }

    /**
     * iommu_detach_device_pasid() naming a domain that is not the one attached (or nothing attached):
     * -EINVAL, the attachment stays, the driver is not called. Reference §4.2, DESIGN §6.
     */
    @Test
    void detachDevicePasid_otherDomainOrNothingAttached_throwsEinvalAndChangesNothing() {
        AttachHandle handle = new AttachHandle(paging);
        core.attachDevicePasid(paging, dev, 5, handle);
        IommuDomain other = new IommuDomain(DomainType.UNMANAGED, ops, ops, null);

        KernelException wrong = catchThrowableOfType(KernelException.class,
                () -> core.detachDevicePasid(other, dev, 5));
        KernelException empty = catchThrowableOfType(KernelException.class,
                () -> core.detachDevicePasid(paging, dev, 6));

        assertThat(wrong.errno()).isEqualTo(Errno.EINVAL);
        assertThat(empty.errno()).isEqualTo(Errno.EINVAL);
        assertThat(dev.group().pasidArray()).containsOnlyKeys(5).containsValue(handle);
        assertThat(ops.pasidCalls).hasSize(1);
    }

    /**
     * iommu_attach_handle_get() with nothing at the PASID fails with -ENOENT. Reference §1.7.
     */
    @Test
    void attachHandleGet_nothingAttached_throwsEnoent() {
        KernelException e = catchThrowableOfType(KernelException.class,
                () -> core.attachHandleGet(dev.group(), IommuCore.IOMMU_NO_PASID, null));

        assertThat(e.errno()).isEqualTo(Errno.ENOENT);
        assertThat(e.argument()).isEqualTo("pasid");
    }

    /**
     * iommu_attach_handle_get() with a type that differs from the attached domain's fails with -EBUSY and
     * leaves the handle in place; without a type, or with the matching type, it returns the handle.
     * Reference §1.7, §4.1 step 3.
     */
    @Test
    void attachHandleGet_typeMismatch_throwsEbusyOtherwiseReturnsHandle() {
        AttachHandle handle = new AttachHandle(paging);
        core.attachDevicePasid(paging, dev, 5, handle);

        KernelException e = catchThrowableOfType(KernelException.class,
                () -> core.attachHandleGet(dev.group(), 5, DomainType.SVA));

        assertThat(e.errno()).isEqualTo(Errno.EBUSY);
        assertThat(e.argument()).isEqualTo("type");
        assertThat(core.attachHandleGet(dev.group(), 5, null)).isSameAs(handle);
        assertThat(core.attachHandleGet(dev.group(), 5, DomainType.UNMANAGED)).isSameAs(handle);
    }

    /**
     * struct iommu_domain: only an SVA domain carries an mm. Reference §1.7.
     */
    @Test
    void iommuDomain_svaWithoutMmOrPagingWithMm_isRejected() {
        assertThat(catchThrowableOfType(IllegalArgumentException.class,
                () -> new IommuDomain(DomainType.SVA, ops, ops, null))).isNotNull();
        assertThat(paging.mm()).isNull();
        assertThat(paging.iopfHandler()).isNull();
        assertThat(DomainType.DMA.flags()).isEqualTo(0b11);
        assertThat(DomainType.SVA.flags()).isEqualTo(1 << 4);
        assertThat(DomainType.NESTED.flags()).isEqualTo(1 << 6);
        assertThat(DomainType.BLOCKED.isPaging()).isFalse();
        assertThat(DomainType.DMA_FQ.isPaging()).isTrue();
    }

    /**
     * iommu_attach_device() makes the domain the group's RID domain without publishing a handle (only
     * iommu_attach_group_handle() does); a second attach, even of the same domain, is -EBUSY
     * (__iommu_attach_group() accepts only a core-owned domain in place); iommu_detach_device() returns the
     * group to its blocking domain. Reference §1.7.
     */
    @Test
    void attachDevice_rid_setsGroupDomainAndRefusesASecondAttach() {
        core.attachDevice(paging, dev);
        IommuDomain other = new IommuDomain(DomainType.NESTED, ops, ops, null);

        KernelException again = catchThrowableOfType(KernelException.class, () -> core.attachDevice(paging, dev));
        KernelException e = catchThrowableOfType(KernelException.class, () -> core.attachDevice(other, dev));

        assertThat(again.errno()).isEqualTo(Errno.EBUSY);
        assertThat(e.errno()).isEqualTo(Errno.EBUSY);
        assertThat(core.getDomainForDev(dev)).isSameAs(paging);
        assertThat(dev.group().pasidArray()).isEmpty();
        core.detachDevice(paging, dev);
        assertThat(core.getDomainForDev(dev)).isSameAs(ops.blocked);
        assertThat(catchThrowableOfType(KernelException.class, () -> core.detachDevice(paging, dev)).errno())
                .isEqualTo(Errno.EINVAL);
    }

    /** iommu_attach_device() with a domain of another driver fails with -EINVAL. Reference §1.7. */
    @Test
    void attachDevice_domainOfOtherDriver_throwsEinval() {
        RecordingOps otherDriver = new RecordingOps();
        IommuDomain foreign = new IommuDomain(DomainType.UNMANAGED, otherDriver, otherDriver, null);

        KernelException e = catchThrowableOfType(KernelException.class, () -> core.attachDevice(foreign, dev));

        assertThat(e.errno()).isEqualTo(Errno.EINVAL);
        assertThat(dev.group().pasidArray()).isEmpty();
    }
}
