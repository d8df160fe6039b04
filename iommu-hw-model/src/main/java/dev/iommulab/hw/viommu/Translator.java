package dev.iommulab.hw.viommu;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.viommu.ViommuOptions.Implementation;

/**
 * Where an endpoint's access goes: QEMU's virtio_iommu_translate() in its order of checks — bypass, reserved regions,
 * attachment, the domain's mapping, the mapping's permission — with the specification's fault contents by default
 * (virtio 1.x §5.13.6.8: a fault has the access's READ or WRITE flag and the address) or QEMU's (only a permission
 * fault names the access).
 */
final class Translator {

    /**
     * A guest-physical address ({@code fault} null), or the fault that refuses the access with what QEMU prints for
     * it once per call site ({@code report}, null where QEMU prints nothing).
     */
    record Result(long gpa, ViommuFault fault, HwFaultReason reason, String site, String report) {

        static Result to(long gpa) {
            return new Result(gpa, null, null, null, null);
        }

        boolean allowed() {
            return fault == null;
        }
    }

    private final ViommuOptions options;
    private final Domains domains;

    Translator(ViommuOptions options, Domains domains) {
        this.options = options;
        this.domains = domains;
    }

    /**
     * @param unattachedBypass whether an endpoint attached to no domain is in bypass mode (the configuration's
     *                         {@code bypass} with BYPASS_CONFIG offered, or the legacy F_BYPASS negotiated)
     */
    Result translate(DmaRequest req, boolean unattachedBypass) {
        long addr = req.addr();
        Domains.Endpoint ep = domains.endpoint(req.rid());
        if (ep == null || req.pasidPresent() || req.addressType() == AddressType.TRANSLATED) {
            // not behind this IOMMU, or a request it has no means to handle: no PASID, no ATS
            return fault(req, ViommuFaultReason.UNKNOWN, HwFaultReason.REQUEST_TYPE_DISALLOWED, false, null, null);
        }
        Domains.Domain domain = ep.domain;
        if (domain == null ? unattachedBypass : domain.bypass) {
            return Result.to(addr);
        }
        boolean qemu = options.implementation() == Implementation.QEMU;
        if (qemu && !ep.known) {
            return fault(req, ViommuFaultReason.UNKNOWN, HwFaultReason.DEVICE_CTX_NOT_PRESENT, false, "unknown",
                    String.format("sid=%d is not known!!", req.rid()));
        }
        for (ResvRegion r : ep.regions) {
            if (r.contains(addr)) {
                return r.msi() ? Result.to(addr)
                        : fault(req, ViommuFaultReason.MAPPING, HwFaultReason.TRANSLATION_NOT_PRESENT, !qemu, null,
                        null);
            }
        }
        if (domain == null) {
            return fault(req, ViommuFaultReason.DOMAIN, HwFaultReason.DEVICE_CTX_NOT_PRESENT, !qemu, "unattached",
                    String.format("%02x:%02x.%01x not attached to any domain", req.rid() >> 8 & 0xff,
                            req.rid() >> 3 & 0x1f, req.rid() & 7));
        }
        Domains.Mapping m = domain.lookup(addr);
        if (m == null || !m.contains(addr + req.length() - 1)) {
            return fault(req, ViommuFaultReason.MAPPING, HwFaultReason.TRANSLATION_NOT_PRESENT, !qemu, "unmapped",
                    String.format("no mapping for %#x for sid=%d", addr, req.rid()));
        }
        boolean write = req.access() == Access.WRITE;
        int needed = write ? ViommuWire.MAP_F_WRITE : ViommuWire.MAP_F_READ;
        if ((m.flags() & needed) == 0) {
            HwFaultReason reason = write ? HwFaultReason.PERMISSION_WRITE
                    : req.access() == Access.EXEC ? HwFaultReason.PERMISSION_EXEC : HwFaultReason.PERMISSION_READ;
            return fault(req, ViommuFaultReason.MAPPING, reason, true, "permission", String.format(
                    "permission error on %#x(%d): allowed=%d", addr, write ? 2 : 1, m.flags() & ViommuWire.MAP_F_MASK));
        }
        return Result.to(addr - m.start() + m.phys());
    }

    /**
     * A refusal; the record names the access when {@code withAccess}, and always the address; {@code report} is QEMU's
     * once-only line for it (from virtio_iommu_translate()), or null.
     */
    private static Result fault(DmaRequest req, ViommuFaultReason reason, HwFaultReason common, boolean withAccess,
                                String site, String report) {
        int flags = ViommuWire.FAULT_F_ADDRESS;
        if (withAccess) {
            flags |= req.access() == Access.WRITE ? ViommuWire.FAULT_F_WRITE : ViommuWire.FAULT_F_READ;
        }
        return new Result(-1, new ViommuFault(reason, flags, req.rid(), req.addr()), common, site, report);
    }
}
