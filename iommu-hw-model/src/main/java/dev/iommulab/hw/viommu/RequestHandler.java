package dev.iommulab.hw.viommu;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.viommu.ViommuOptions.Implementation;
import dev.iommulab.hw.virtio.DescriptorChain;

import java.util.ArrayList;
import java.util.List;

/**
 * One chain popped from the request queue, answered: QEMU's virtio_iommu_handle_command() for one element, with the
 * specification's answers where it departs from them (virtio 1.x §5.13.6 Device operations). The tail is written
 * at the start of the writable part, after the properties for a PROBE.
 */
final class RequestHandler {

    /**
     * What to do with the chain: push it back with {@code written} bytes, or break the device with QEMU's
     * virtio_error() {@code error} text (nothing pushed).
     */
    record Outcome(int written, String error, String what, ViommuStatus status) {

        static Outcome written(int bytes, String what) {
            return new Outcome(bytes, null, what, null);
        }

        static Outcome broken(String error) {
            return new Outcome(0, error, error, null);
        }
    }

    /** The largest readable part the device reads: a PROBE's. */
    private static final int MAX_REQUEST = ViommuRequest.readableBytes(ViommuWire.T_PROBE);

    private final ViommuOptions options;
    private final PhysicalMemory memory;
    private final Domains domains;
    private final List<ViommuRefusal> refusals = new ArrayList<>();

    RequestHandler(ViommuOptions options, PhysicalMemory memory, Domains domains) {
        this.options = options;
        this.memory = memory;
        this.domains = domains;
    }

    private boolean spec() {
        return options.implementation() == Implementation.SPEC;
    }

    /** Every request not answered OK so far. */
    List<ViommuRefusal> refusals() {
        return List.copyOf(refusals);
    }

    /** Answers one request; a refusal is recorded with whether the device's state changed all the same. */
    Outcome handle(DescriptorChain chain, long negotiated) {
        long before = domains.version();
        Outcome outcome = answer(chain, negotiated);
        if (outcome.status() != ViommuStatus.OK) {
            refusals.add(new ViommuRefusal(outcome.what(), outcome.status(), before != domains.version()));
        }
        return outcome;
    }

    private Outcome answer(DescriptorChain chain, long negotiated) {
        if (chain.readableBytes() < ViommuWire.HEAD_BYTES || chain.writableBytes() < ViommuWire.TAIL_BYTES) {
            return spec() ? Outcome.written(0, "no room for head or tail: returned unwritten")
                    : Outcome.broken("virtio-iommu bad head/tail size");
        }
        byte[] request = chain.gather(memory, MAX_REQUEST);
        int type = request[0] & 0xff;
        int need = ViommuRequest.readableBytes(type);
        if (need < 0) {
            return spec() ? Outcome.written(0, "unknown type " + type + ": returned unwritten")
                    : tail(chain, ViommuStatus.UNSUPP, "unknown type " + type);
        }
        if (request.length < need) {
            return tail(chain, ViommuStatus.INVAL, "type " + type + " shorter than its request");
        }
        ViommuRequest req = ViommuRequest.decode(request);
        if (req instanceof ViommuRequest.Probe p) {
            return probe(chain, p);
        }
        return tail(chain, apply(req, negotiated), req.toString());
    }

    private ViommuStatus apply(ViommuRequest req, long negotiated) {
        if (req instanceof ViommuRequest.Attach a) {
            return domains.attach(a);
        }
        if (req instanceof ViommuRequest.Detach d) {
            return domains.detach(d);
        }
        if (!mapUnmap(negotiated)) {
            return ViommuStatus.UNSUPP;
        }
        return req instanceof ViommuRequest.Map m ? domains.map(m, negotiated)
                : domains.unmap((ViommuRequest.Unmap) req);
    }

    /** MAP and UNMAP exist only with {@code VIRTIO_IOMMU_F_MAP_UNMAP} negotiated; QEMU does not look. */
    private boolean mapUnmap(long negotiated) {
        return !spec() || ViommuWire.has(negotiated, ViommuWire.F_MAP_UNMAP);
    }

    /**
     * virtio 1.x §5.13.6.7 PROBE request: one RESV_MEM property per reserved region of the endpoint, the rest of
     * {@code probe_size} zero, then the tail. Without the PROBE feature the request is an unknown one.
     */
    private Outcome probe(DescriptorChain chain, ViommuRequest.Probe p) {
        if (!options.offers(ViommuWire.F_PROBE)) {
            return Outcome.written(0, p + " without F_PROBE: returned unwritten");
        }
        int size = options.probeSize();
        if (chain.writableBytes() < size + ViommuWire.TAIL_BYTES) {
            return tail(chain, spec() ? ViommuStatus.INVAL : ViommuStatus.DEVERR, p + " with a small buffer");
        }
        byte[] out = new byte[size + ViommuWire.TAIL_BYTES];
        Domains.Endpoint ep = domains.endpoint(p.endpoint());
        ViommuStatus status = ViommuStatus.OK;
        if (ep == null) {
            status = ViommuStatus.NOENT;
        } else if (ep.regions.size() * ResvRegion.PROPERTY_BYTES > size) {
            status = ViommuStatus.INVAL;
        } else {
            int at = 0;
            for (ResvRegion r : ep.regions) {
                System.arraycopy(r.encode(), 0, out, at, ResvRegion.PROPERTY_BYTES);
                at += ResvRegion.PROPERTY_BYTES;
            }
        }
        out[size] = (byte) status.code();
        return new Outcome(chain.scatter(memory, out), null, p + ": " + status, status);
    }

    private Outcome tail(DescriptorChain chain, ViommuStatus status, String what) {
        int written = chain.scatter(memory, new byte[] {(byte) status.code(), 0, 0, 0});
        return new Outcome(written, null, what + ": " + status, status);
    }
}
