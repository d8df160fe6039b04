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
import org.junit.jupiter.api.Test;

/**
 * The RID side of iommu.c: default domains at probe (iommu_setup_default_domain()), iommu_attach_device(),
 * iommu_detach_device() (__iommu_group_set_core_domain()), iommu_group_replace_domain(), the attach-handle
 * variants iommufd uses, and DMA ownership (iommu_device_claim_dma_owner()). Every failure leaves
 * {@code group->domain}, the PASID array and what the driver programmed as they were.
 */
class IommuCoreRidTest {

    private final EventLoop loop = new EventLoop(1);
    private final FrameAllocator frames = new FrameAllocator(new PhysicalMemory(16L << 20), 1L << 20,
            new FailureInjector());
    private final RecordingOps ops = new RecordingOps().withDomains(frames);

    private Device probe(IommuCore core, int rid) {
        EndpointConfig config = new EndpointConfig("dev" + rid, rid, DeviceProfile.NIC, false, false, 8, 1, 0, 4);
        return core.probeDevice(new PcieEndpoint(config, loop, TimingModel.ESTIMATES), ops);
    }

    /**
     * With the lab's default (BLOCKED), probe attaches the driver's blocked domain and the group is owned by
     * the lab: there is no default domain. Derived from iommu_setup_default_domain() and
     * __iommu_take_dma_ownership().
     */
    @Test
    void probeDevice_defaultBlocked_groupOnBlockingDomainOwnedByLab() {
        IommuCore core = new IommuCore();
        Device dev = probe(core, 0x10);

        assertThat(dev.group().domain()).isSameAs(ops.blocked);
        assertThat(dev.group().blockingDomain()).isSameAs(ops.blocked);
        assertThat(dev.group().defaultDomain()).isNull();
        assertThat(dev.group().dmaOwner()).isEqualTo(IommuCore.LAB_OWNER);
        assertThat(ops.ridProgrammed).containsEntry(dev, ops.blocked);
    }

    /**
     * iommu_setup_default_domain() with iommu_def_domain_type = DMA allocates a paging domain through
     * domain_alloc_paging, makes it DMA (iommu_domain_init()) and attaches it.
     */
    @Test
    void probeDevice_defaultDma_allocatesAndAttachesDmaDomain() {
        IommuCore core = new IommuCore(DomainType.DMA);
        Device dev = probe(core, 0x10);

        IommuDomain dma = dev.group().defaultDomain();
        assertThat(dma.type()).isEqualTo(DomainType.DMA);
        assertThat(dma.pgtable()).isNotNull();
        assertThat(dma.pgsizeBitmap()).isEqualTo(1L << 12 | 1L << 21 | 1L << 30);
        assertThat(core.getDomainForDev(dev)).isSameAs(dma);
        assertThat(ops.ridProgrammed).containsEntry(dev, dma);
        assertThat(dev.group().dmaOwner()).isNull();
    }

    /** iommu.passthrough=1: the default domain is the driver's static identity domain. */
    @Test
    void probeDevice_defaultIdentity_attachesIdentityDomain() {
        Device dev = probe(new IommuCore(DomainType.IDENTITY), 0x10);

        assertThat(dev.group().defaultDomain()).isSameAs(ops.identity);
        assertThat(ops.ridProgrammed).containsEntry(dev, ops.identity);
    }

    /**
     * __iommu_probe_device() fails when the default domain cannot be set up: the error propagates and the
     * core does not know the device.
     */
    @Test
    void probeDevice_defaultDomainAllocFails_throwsAndAddsNoDevice() {
        IommuCore core = new IommuCore(DomainType.DMA);
        ops.failAlloc = new KernelException(Errno.ENOMEM, "domain", "no memory");

        KernelException e = catchThrowableOfType(KernelException.class, () -> probe(core, 0x10));

        assertThat(e.errno()).isEqualTo(Errno.ENOMEM);
        assertThat(core.devices()).isEmpty();
        assertThat(ops.ridProgrammed).isEmpty();
    }

    /**
     * iommu_attach_device() replaces a default domain; iommu_detach_device() on an unowned group returns to
     * the default domain (__iommu_group_set_core_domain()).
     */
    @Test
    void detachDevice_unownedGroup_returnsToDefaultDomain() {
        IommuCore core = new IommuCore(DomainType.DMA);
        Device dev = probe(core, 0x10);
        IommuDomain dma = dev.group().defaultDomain();
        IommuDomain unmanaged = core.pagingDomainAlloc(dev);

        core.attachDevice(unmanaged, dev);
        assertThat(ops.ridProgrammed).containsEntry(dev, unmanaged);
        core.detachDevice(unmanaged, dev);

        assertThat(core.getDomainForDev(dev)).isSameAs(dma);
        assertThat(ops.ridAttaches).containsExactly(dma, unmanaged, dma);
    }

    /** iommu_detach_device() on a group whose DMA is owned installs the blocking domain. */
    @Test
    void detachDevice_ownedGroup_installsBlockingDomain() {
        IommuCore core = new IommuCore();
        Device dev = probe(core, 0x10);
        IommuDomain unmanaged = core.pagingDomainAlloc(dev);
        core.attachDevice(unmanaged, dev);

        core.detachDevice(unmanaged, dev);

        assertThat(core.getDomainForDev(dev)).isSameAs(ops.blocked);
        assertThat(ops.ridProgrammed).containsEntry(dev, ops.blocked);
    }

    /**
     * __iommu_group_set_domain() when attach_dev fails: the error propagates, group->domain and the driver's
     * programming stay on the old domain.
     */
    @Test
    void attachDevice_driverFails_keepsOldDomain() {
        IommuCore core = new IommuCore();
        Device dev = probe(core, 0x10);
        IommuDomain unmanaged = core.pagingDomainAlloc(dev);
        ops.failAttachDev = new KernelException(Errno.EINVAL, "domain", "incompatible");

        KernelException e = catchThrowableOfType(KernelException.class, () -> core.attachDevice(unmanaged, dev));

        assertThat(e.errno()).isEqualTo(Errno.EINVAL);
        assertThat(core.getDomainForDev(dev)).isSameAs(ops.blocked);
        assertThat(ops.ridProgrammed).containsEntry(dev, ops.blocked);
    }

    /** iommu_attach_device() on a device without a group is -ENODEV; a foreign domain is -EINVAL. */
    @Test
    void attachDevice_noGroupOrForeignDomain_throwsEnodevOrEinval() {
        IommuCore core = new IommuCore();
        Device dev = probe(core, 0x10);
        Device orphan = new Device("orphan", 0x20, 0, ops, false, false);
        RecordingOps otherDriver = new RecordingOps();
        IommuDomain foreign = new IommuDomain(DomainType.UNMANAGED, otherDriver, otherDriver, null);

        KernelException noGroup = catchThrowableOfType(KernelException.class,
                () -> core.attachDevice(ops.identity, orphan));
        KernelException wrong = catchThrowableOfType(KernelException.class, () -> core.attachDevice(foreign, dev));

        assertThat(noGroup.errno()).isEqualTo(Errno.ENODEV);
        assertThat(wrong.errno()).isEqualTo(Errno.EINVAL);
        assertThat(core.getDomainForDev(dev)).isSameAs(ops.blocked);
        assertThat(ops.ridAttaches).containsExactly(ops.blocked);
    }

    /**
     * iommu_group_replace_domain() switches from one attached domain to another directly (no blocking domain
     * in between), which iommu_attach_device() refuses with -EBUSY; a failed replace keeps the old domain.
     */
    @Test
    void groupReplaceDomain_attachedDomain_switchesDirectlyAndKeepsOldOnFailure() {
        IommuCore core = new IommuCore();
        Device dev = probe(core, 0x10);
        IommuDomain first = core.pagingDomainAlloc(dev);
        IommuDomain second = core.pagingDomainAlloc(dev);
        core.attachDevice(first, dev);
        assertThat(catchThrowableOfType(KernelException.class, () -> core.attachDevice(second, dev)).errno())
                .isEqualTo(Errno.EBUSY);

        core.groupReplaceDomain(dev.group(), second);
        ops.failAttachDev = new KernelException(Errno.ENOSPC, "did", "no domain id");
        KernelException e = catchThrowableOfType(KernelException.class,
                () -> core.groupReplaceDomain(dev.group(), ops.identity));

        assertThat(e.errno()).isEqualTo(Errno.ENOSPC);
        assertThat(ops.ridAttaches).containsExactly(ops.blocked, first, second);
        assertThat(core.getDomainForDev(dev)).isSameAs(second);
        assertThat(catchThrowableOfType(KernelException.class, () -> core.groupReplaceDomain(dev.group(), null))
                .errno()).isEqualTo(Errno.EINVAL);
    }

    /**
     * iommu_attach_group_handle() publishes the handle at IOMMU_NO_PASID (where io-pgfault looks for RID
     * faults); a second handle is -EBUSY; iommu_detach_group_handle() removes it and restores the core domain.
     */
    @Test
    void attachGroupHandle_rid_publishesHandleUntilDetached() {
        IommuCore core = new IommuCore();
        Device dev = probe(core, 0x10);
        IommuDomain nested = new IommuDomain(DomainType.NESTED, ops, ops, null);
        AttachHandle handle = new AttachHandle(nested);

        core.attachGroupHandle(nested, dev.group(), handle);
        KernelException busy = catchThrowableOfType(KernelException.class,
                () -> core.attachGroupHandle(ops.identity, dev.group(), new AttachHandle(ops.identity)));
        KernelException noHandle = catchThrowableOfType(KernelException.class,
                () -> core.attachGroupHandle(ops.identity, dev.group(), null));

        assertThat(busy.errno()).isEqualTo(Errno.EBUSY);
        assertThat(noHandle.errno()).isEqualTo(Errno.EINVAL);
        assertThat(core.attachHandleGet(dev.group(), IommuCore.IOMMU_NO_PASID, DomainType.NESTED)).isSameAs(handle);
        core.detachGroupHandle(nested, dev.group());
        assertThat(dev.group().pasidArray()).isEmpty();
        assertThat(core.getDomainForDev(dev)).isSameAs(ops.blocked);
    }

    /**
     * iommu_device_claim_dma_owner(): the group moves to its blocking domain; the same owner may claim again,
     * another gets -EPERM; a group with a non-default domain or a PASID attached is -EBUSY; the last
     * iommu_device_release_dma_owner() returns to the default domain.
     */
    @Test
    void claimDmaOwner_defaultDomainGroup_blocksUntilReleased() {
        IommuCore core = new IommuCore(DomainType.DMA);
        Device dev = probe(core, 0x10);
        Device busy = probe(core, 0x18);
        core.attachDevicePasid(ops.identity, busy, 3, null);
        IommuDomain dma = dev.group().defaultDomain();

        core.claimDmaOwner(dev, "vfio");
        core.claimDmaOwner(dev, "vfio");
        KernelException other = catchThrowableOfType(KernelException.class, () -> core.claimDmaOwner(dev, "x"));
        KernelException withPasid = catchThrowableOfType(KernelException.class,
                () -> core.claimDmaOwner(busy, "vfio"));

        assertThat(other.errno()).isEqualTo(Errno.EPERM);
        assertThat(withPasid.errno()).isEqualTo(Errno.EBUSY);
        assertThat(busy.group().dmaOwner()).isNull();
        assertThat(core.getDomainForDev(dev)).isSameAs(ops.blocked);
        assertThat(dev.group().dmaOwnerCount()).isEqualTo(2);
        core.releaseDmaOwner(dev);
        assertThat(core.getDomainForDev(dev)).isSameAs(ops.blocked);
        core.releaseDmaOwner(dev);
        assertThat(core.getDomainForDev(dev)).isSameAs(dma);
        assertThat(dev.group().dmaOwner()).isNull();
    }

    /** __iommu_paging_domain_alloc_flags(): only paging types, and only for a device with a group. */
    @Test
    void domainAllocPaging_nonPagingTypeOrNoGroup_throwsEinvalOrEnodev() {
        IommuCore core = new IommuCore();
        Device dev = probe(core, 0x10);
        Device orphan = new Device("orphan", 0x20, 0, ops, false, false);

        assertThat(catchThrowableOfType(KernelException.class,
                () -> core.domainAllocPaging(dev, DomainType.IDENTITY, 0)).errno()).isEqualTo(Errno.EINVAL);
        assertThat(catchThrowableOfType(KernelException.class,
                () -> core.pagingDomainAlloc(orphan)).errno()).isEqualTo(Errno.ENODEV);
        assertThat(core.domainAllocPaging(dev, DomainType.DMA, 0).type()).isEqualTo(DomainType.DMA);
    }

    /**
     * The remaining refusals, each leaving the group as it was: iommu_attach_device() on a group of several
     * devices (-EINVAL), iommu_group_replace_domain() with a foreign domain (-EINVAL),
     * iommu_detach_group_handle() naming a domain that is not attached (-EINVAL), DMA-ownership calls with no
     * owner (-EINVAL), without a group (-ENODEV) or releasing what is not owned (-EINVAL).
     */
    @Test
    void ridCalls_remainingErrnoPaths_refusedAndChangeNothing() {
        IommuCore core = new IommuCore(DomainType.DMA);
        Device dev = probe(core, 0x10);
        IommuDomain dma = dev.group().defaultDomain();
        Device sibling = new Device("fn1", 0x11, 0, ops, false, false);
        IommuDomain unmanaged = core.pagingDomainAlloc(dev);
        RecordingOps otherDriver = new RecordingOps();
        IommuDomain foreign = new IommuDomain(DomainType.UNMANAGED, otherDriver, otherDriver, null);
        Device orphan = new Device("orphan", 0x20, 0, ops, false, false);

        assertThat(errno(() -> core.groupReplaceDomain(dev.group(), foreign))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> core.detachGroupHandle(unmanaged, dev.group()))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> core.claimDmaOwner(dev, null))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> core.claimDmaOwner(orphan, "vfio"))).isEqualTo(Errno.ENODEV);
        assertThat(errno(() -> core.releaseDmaOwner(dev))).isEqualTo(Errno.EINVAL);
        dev.group().addDevice(sibling);
        assertThat(errno(() -> core.attachDevice(unmanaged, dev))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> core.detachDevice(dma, dev))).isEqualTo(Errno.EINVAL);

        assertThat(core.getDomainForDev(dev)).isSameAs(dma);
        assertThat(dev.group().dmaOwner()).isNull();
        assertThat(ops.ridAttaches).containsExactly(dma);
    }

    private static Errno errno(Runnable call) {
        return catchThrowableOfType(KernelException.class, call::run).errno();
    }
}
