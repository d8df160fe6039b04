package dev.iommulab.sva;

import static dev.iommulab.sva.SvaFixture.handleAt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.fixtures.RecordingIommuOps;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** iommu_sva_bind_device() / iommu_sva_unbind_device() bookkeeping: PASIDs, handles, shared domains. */
class IommuSvaBindTest {

    private SvaFixture f;
    private Device d1;
    private MmStruct mm;

    @BeforeEach
    void setUp() {
        f = new SvaFixture();
        d1 = f.probe("accel0", 0x0100, 8);
        mm = f.process("proc");
    }

    /**
     * iommu_sva_bind_device() on a fresh mm: iommu_alloc_global_pasid() hands out PASID 1 (the first global
     * PASID), a new SVA domain for the mm with the SVA iopf_handler is attached at that PASID.
     * Reference §4.1 steps 2, 5, 6; §1.7.
     */
    @Test
    void bindDevice_firstBind_allocatesPasidOneAndAttachesNewSvaDomainThere() {
        SvaHandle handle = f.sva.bindDevice(d1, mm);

        assertThat(handle.pasid()).isEqualTo(1);
        assertThat(handle.users()).isEqualTo(1);
        assertThat(handle.device()).isSameAs(d1);
        assertThat(handle.mm()).isSameAs(mm);
        assertThat(f.sva.mmPasid(mm)).isEqualTo(1);
        assertThat(f.pasids.isAllocated(1)).isTrue();
        IommuDomain domain = handle.attachHandle().domain();
        assertThat(domain.type()).isEqualTo(DomainType.SVA);
        assertThat(domain.mm()).isSameAs(mm);
        assertThat(domain.users()).isEqualTo(1);
        assertThat(domain.iopfHandler()).isNotNull();
        assertThat(d1.group().pasidArray()).containsOnlyKeys(1);
        assertThat(handleAt(d1, 1)).isSameAs(handle.attachHandle());
        assertThat(f.ops.allocatedSvaDomains()).containsExactly(domain);
        assertThat(f.ops.pasidCalls()).containsExactly(new RecordingIommuOps.PasidCall("set", domain, d1, 1));
    }

    /**
     * A second bind of the same (device, mm) finds the SVA handle at the mm's PASID and returns the same
     * handle with users 2; nothing new is allocated or attached. Reference §8 item 26, §4.1 step 3.
     */
    @Test
    void bindDevice_sameDeviceAndMmTwice_returnsSameHandleWithTwoUsers() {
        SvaHandle first = f.sva.bindDevice(d1, mm);

        SvaHandle second = f.sva.bindDevice(d1, mm);

        assertThat(second).isSameAs(first);
        assertThat(second.users()).isEqualTo(2);
        assertThat(first.attachHandle().domain().users()).isEqualTo(1);
        assertThat(f.ops.allocatedSvaDomains()).hasSize(1);
        assertThat(f.ops.pasidCalls()).hasSize(1);
    }

    /**
     * iommu_sva_unbind_device() after a nested bind: the first unbind only drops a user and keeps the PASID
     * attached; the second detaches, and the domain, used by no other device, is dropped so a later bind
     * allocates a new one. Reference §8 item 26, §4.2.
     */
    @Test
    void unbindDevice_nestedBind_firstUnbindKeepsAttachmentSecondDetaches() {
        SvaHandle handle = f.sva.bindDevice(d1, mm);
        f.sva.bindDevice(d1, mm);
        IommuDomain domain = handle.attachHandle().domain();

        f.sva.unbindDevice(handle);

        assertThat(handle.users()).isEqualTo(1);
        assertThat(handleAt(d1, 1)).isSameAs(handle.attachHandle());
        assertThat(f.ops.pasidCalls()).hasSize(1);

        f.sva.unbindDevice(handle);

        assertThat(handle.users()).isZero();
        assertThat(d1.group().pasidArray()).isEmpty();
        assertThat(domain.users()).isZero();
        assertThat(f.ops.pasidCalls()).last().isEqualTo(new RecordingIommuOps.PasidCall("remove", domain, d1, 1));

        SvaHandle again = f.sva.bindDevice(d1, mm);
        assertThat(again).isNotSameAs(handle);
        assertThat(again.pasid()).isEqualTo(1);
        assertThat(again.attachHandle().domain()).isNotSameAs(domain);
        assertThat(f.ops.allocatedSvaDomains()).hasSize(2);
    }

    /**
     * Binding a second device to the same mm reuses the mm's PASID and attaches the mm's existing SVA domain
     * (domain users 2) instead of allocating another. Reference §8 item 27, §4.1 steps 2 and 4.
     */
    @Test
    void bindDevice_secondDeviceSameMm_sharesPasidAndSvaDomain() {
        Device d2 = f.probe("accel1", 0x0200, 8);
        SvaHandle h1 = f.sva.bindDevice(d1, mm);

        SvaHandle h2 = f.sva.bindDevice(d2, mm);

        assertThat(h2).isNotSameAs(h1);
        assertThat(h2.pasid()).isEqualTo(h1.pasid()).isEqualTo(1);
        IommuDomain domain = h1.attachHandle().domain();
        assertThat(h2.attachHandle().domain()).isSameAs(domain);
        assertThat(domain.users()).isEqualTo(2);
        assertThat(f.ops.allocatedSvaDomains()).hasSize(1);
        assertThat(handleAt(d2, 1)).isSameAs(h2.attachHandle());
        assertThat(f.pasids.isAllocated(2)).isFalse();
    }

    /**
     * Unbinding one of two devices sharing the SVA domain detaches only that device; the domain stays with
     * users 1 for the other. Reference §8 item 27, §4.2.
     */
    @Test
    void unbindDevice_oneOfTwoDevicesSharingDomain_keepsDomainForTheOther() {
        Device d2 = f.probe("accel1", 0x0200, 8);
        SvaHandle h1 = f.sva.bindDevice(d1, mm);
        SvaHandle h2 = f.sva.bindDevice(d2, mm);
        IommuDomain domain = h1.attachHandle().domain();

        f.sva.unbindDevice(h1);

        assertThat(d1.group().pasidArray()).isEmpty();
        assertThat(handleAt(d2, 1)).isSameAs(h2.attachHandle());
        assertThat(domain.users()).isEqualTo(1);

        Device d3 = f.probe("accel2", 0x0300, 8);
        assertThat(f.sva.bindDevice(d3, mm).attachHandle().domain()).isSameAs(domain);
        assertThat(domain.users()).isEqualTo(2);
    }

    /**
     * The mm already has PASID 2 and the device only has PASIDs [0, 2): iommu_alloc_mm_data() fails with
     * -EOVERFLOW and nothing changes. Reference §8 item 28, §4.1 step 2.
     */
    @Test
    void bindDevice_mmPasidBeyondDeviceRange_throwsEoverflowAndChangesNothing() {
        f.sva.bindDevice(d1, f.process("other"));
        f.sva.bindDevice(d1, mm);
        assertThat(f.sva.mmPasid(mm)).isEqualTo(2);
        Device small = f.probe("small", 0x0200, 1);
        int callsBefore = f.ops.pasidCalls().size();

        KernelException e = catchThrowableOfType(KernelException.class, () -> f.sva.bindDevice(small, mm));

        assertThat(e.errno()).isEqualTo(Errno.EOVERFLOW);
        assertThat(f.sva.mmPasid(mm)).isEqualTo(2);
        assertThat(small.group().pasidArray()).isEmpty();
        assertThat(f.ops.pasidCalls()).hasSize(callsBefore);
        assertThat(f.ops.allocatedSvaDomains()).hasSize(2);
    }

    /**
     * A device without PASID support binding an mm that already has a PASID: -EOVERFLOW (max_pasids 0).
     * Reference §8 item 28.
     */
    @Test
    void bindDevice_deviceWithoutPasidAndMmWithPasid_throwsEoverflow() {
        f.sva.bindDevice(d1, mm);
        Device noPasid = f.probe("nopasid", 0x0200, 0);

        KernelException e = catchThrowableOfType(KernelException.class, () -> f.sva.bindDevice(noPasid, mm));

        assertThat(e.errno()).isEqualTo(Errno.EOVERFLOW);
        assertThat(noPasid.group().pasidArray()).isEmpty();
        assertThat(f.sva.mmPasid(mm)).isEqualTo(1);
    }

    /**
     * An x86 process with Linear Address Masking on: iommu_alloc_mm_data() finds arch_pgtable_dma_compat() false and
     * bind fails with -EBUSY before any PASID is allocated; once the process forces tagged SVA
     * (ARCH_FORCE_TAGGED_SVA) the same bind succeeds. Reference §4.1 step 2.
     */
    @Test
    void bindDevice_lamWithoutForcedTaggedSva_throwsEbusyUntilForced() {
        mm.enableLam(false);

        KernelException e = catchThrowableOfType(KernelException.class, () -> f.sva.bindDevice(d1, mm));

        assertThat(e.errno()).isEqualTo(Errno.EBUSY);
        assertThat(e.getMessage()).contains("LAM");
        assertThat(f.sva.mmPasid(mm)).isEqualTo(IommuCore.IOMMU_PASID_INVALID);
        assertThat(f.pasids.isAllocated(1)).isFalse();
        assertThat(d1.group().pasidArray()).isEmpty();

        mm.enableLam(true);
        assertThat(f.sva.bindDevice(d1, mm).pasid()).isEqualTo(1);
    }

    /**
     * A driver without {@code domain_alloc_sva}: iommu_sva_domain_alloc() fails with -EOPNOTSUPP, bind returns it
     * and the PASID allocated for the mm goes back, so nothing changed. Reference §4.1 step 5.
     */
    @Test
    void bindDevice_driverWithoutDomainAllocSva_throwsEopnotsuppAndPasidGoesBack() {
        f.ops.setSvaSupported(false);

        KernelException e = catchThrowableOfType(KernelException.class, () -> f.sva.bindDevice(d1, mm));

        assertThat(e.errno()).isEqualTo(Errno.EOPNOTSUPP);
        assertThat(e.getMessage()).contains("domain_alloc_sva");
        assertThat(f.sva.mmPasid(mm)).isEqualTo(IommuCore.IOMMU_PASID_INVALID);
        assertThat(f.pasids.isAllocated(1)).isFalse();
        assertThat(d1.group().pasidArray()).isEmpty();
    }

    /**
     * A device without PASID support binding an mm without PASID: iommu_alloc_global_pasid() fails, bind
     * returns -ENOSPC and the mm still has no PASID. Reference §8 item 28, §4.1 step 2.
     */
    @Test
    void bindDevice_deviceWithoutPasidSupport_throwsEnospcAndMmHasNoPasid() {
        Device noPasid = f.probe("nopasid", 0x0200, 0);

        KernelException e = catchThrowableOfType(KernelException.class, () -> f.sva.bindDevice(noPasid, mm));

        assertThat(e.errno()).isEqualTo(Errno.ENOSPC);
        assertThat(f.sva.mmPasid(mm)).isEqualTo(IommuCore.IOMMU_PASID_INVALID);
        assertThat(f.pasids.isAllocated(1)).isFalse();
        assertThat(noPasid.group().pasidArray()).isEmpty();
        assertThat(f.ops.allocatedSvaDomains()).isEmpty();
        assertThat(f.ops.pasidCalls()).isEmpty();
    }

    /**
     * The device's PASID range [1, 1] is used up by another mm: -ENOSPC for a new mm, which gets no PASID.
     * Reference §8 item 28, §4.1 step 2.
     */
    @Test
    void bindDevice_devicePasidRangeExhausted_throwsEnospc() {
        Device small = f.probe("small", 0x0200, 1);
        f.sva.bindDevice(small, f.process("first"));

        KernelException e = catchThrowableOfType(KernelException.class, () -> f.sva.bindDevice(small, mm));

        assertThat(e.errno()).isEqualTo(Errno.ENOSPC);
        assertThat(f.sva.mmPasid(mm)).isEqualTo(IommuCore.IOMMU_PASID_INVALID);
        assertThat(small.group().pasidArray()).containsOnlyKeys(1);
    }

    /**
     * After the last unbind the mm keeps its PASID (only mm_pasid_drop() frees it); a later bind reuses it and
     * a new mm gets the next PASID. Reference §8 item 29, §4.2.
     */
    @Test
    void unbindDevice_lastUnbind_mmKeepsPasidAndRebindReusesIt() {
        SvaHandle handle = f.sva.bindDevice(d1, mm);

        f.sva.unbindDevice(handle);

        assertThat(f.sva.mmPasid(mm)).isEqualTo(1);
        assertThat(f.pasids.isAllocated(1)).isTrue();
        assertThat(f.sva.bindDevice(d1, f.process("other")).pasid()).isEqualTo(2);
        assertThat(f.sva.bindDevice(d1, mm).pasid()).isEqualTo(1);
    }

    /**
     * A non-SVA domain already attached at the mm's PASID: the typed iommu_attach_handle_get() fails with
     * -EBUSY, which bind returns; the PASID just allocated for the mm is given back (no state change) and
     * the existing attachment stays. Reference §4.1 step 3, §1.7, DESIGN §6.
     */
    @Test
    void bindDevice_nonSvaDomainAtMmPasid_throwsEbusyAndChangesNothing() {
        IommuDomain dma = new IommuDomain(DomainType.DMA, f.ops, f.ops, null);
        AttachHandle dmaHandle = new AttachHandle(dma);
        f.core.attachDevicePasid(dma, d1, 1, dmaHandle);

        KernelException e = catchThrowableOfType(KernelException.class, () -> f.sva.bindDevice(d1, mm));

        assertThat(e.errno()).isEqualTo(Errno.EBUSY);
        assertThat(handleAt(d1, 1)).isSameAs(dmaHandle);
        assertThat(f.sva.mmPasid(mm)).isEqualTo(IommuCore.IOMMU_PASID_INVALID);
        assertThat(f.pasids.isAllocated(1)).isFalse();
        assertThat(f.ops.allocatedSvaDomains()).isEmpty();
    }

    /**
     * Unbinding a handle whose users already dropped to zero fails with -EINVAL and detaches nothing.
     * Reference §4.2 (refcount underflow guard).
     */
    @Test
    void unbindDevice_alreadyUnbound_throwsEinval() {
        SvaHandle handle = f.sva.bindDevice(d1, mm);
        f.sva.unbindDevice(handle);
        int calls = f.ops.pasidCalls().size();

        KernelException e = catchThrowableOfType(KernelException.class, () -> f.sva.unbindDevice(handle));

        assertThat(e.errno()).isEqualTo(Errno.EINVAL);
        assertThat(f.ops.pasidCalls()).hasSize(calls);
    }

    /**
     * PASID lifetime with real teardown: after every unbind the SVA domain is freed (mmdrop()) yet the mm keeps
     * PASID 1; only when the process exits — exit_mmap(), then the users' mm_count drop reaching 0 in __mmdrop() —
     * does mm_pasid_drop() return it, and the next new mm gets PASID 1 again. iommu_sva_unbind_device(),
     * iommu_domain_free(), mm_pasid_drop() (iommu-sva.c), __mmdrop() (kernel/fork.c); reference §8 item 29, §4.2.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 29: after all unbinds the mm keeps its PASID; mm teardown returns it")
    void mmPasidDrop_allUnbindsThenExit_pasidBackInAllocatorOnlyAfterExit() {
        Device d2 = f.probe("accel1", 0x0200, 8);
        SvaHandle h1 = f.sva.bindDevice(d1, mm);
        SvaHandle h2 = f.sva.bindDevice(d2, mm);
        int countWhileBound = mm.mmCount();

        f.sva.unbindDevice(h1);
        f.sva.unbindDevice(h2);
        int countAfterUnbinds = mm.mmCount();
        boolean allocatedAfterUnbinds = f.pasids.isAllocated(1);
        mm.mmput();

        assertThat(countWhileBound).as("users' reference + the SVA domain's mmgrab()").isEqualTo(2);
        assertThat(countAfterUnbinds).isEqualTo(1);
        assertThat(allocatedAfterUnbinds).isTrue();
        assertThat(mm.mmCount()).isZero();
        assertThat(f.pasids.isAllocated(1)).isFalse();
        assertThat(f.sva.mmPasid(mm)).isEqualTo(IommuCore.IOMMU_PASID_INVALID);
        assertThat(f.sva.bindDevice(d1, f.process("next")).pasid()).isEqualTo(1);
    }

    /**
     * The other order: the process exits while bound (exit_mmap() runs, but the SVA domain's mmgrab() keeps the
     * mm), so the PASID stays allocated until the last unbind frees the domain and its mmdrop() destroys the mm.
     * iommu_sva_domain_alloc() (mmgrab), iommu_domain_free() (mmdrop), mm_pasid_drop(); reference §1.7, §4.2.
     */
    @Test
    void mmPasidDrop_exitWhileBound_pasidFreedAtLastDomainFree() {
        SvaHandle h = f.sva.bindDevice(d1, mm);

        mm.mmput();
        boolean allocatedAfterExit = f.pasids.isAllocated(1);
        f.sva.unbindDevice(h);

        assertThat(allocatedAfterExit).isTrue();
        assertThat(mm.mmCount()).isZero();
        assertThat(f.pasids.isAllocated(1)).isFalse();
    }

    /**
     * An mm without users cannot be bound: -EINVAL naming the mm, no PASID, no domain (the kernel's caller holds a
     * user; arm_smmu_sva_set_dev_pasid() refuses an exited mm with -EINVAL the same way).
     */
    @Test
    void bindDevice_exitedMm_throwsEinvalAndChangesNothing() {
        mm.mmput();

        KernelException e = catchThrowableOfType(KernelException.class, () -> f.sva.bindDevice(d1, mm));

        assertThat(e.errno()).isEqualTo(Errno.EINVAL);
        assertThat(e.argument()).isEqualTo("mm");
        assertThat(f.sva.mmPasid(mm)).isEqualTo(IommuCore.IOMMU_PASID_INVALID);
        assertThat(f.ops.allocatedSvaDomains()).isEmpty();
    }
}
