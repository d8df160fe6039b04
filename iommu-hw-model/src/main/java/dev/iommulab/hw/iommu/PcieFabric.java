package dev.iommulab.hw.iommu;

import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The PCIe hierarchy between the IOMMU and the functions: routes messages by requester ID with a
 * transfer latency. A message to a RID with no function is dropped (as an unsupported request on a
 * real link would be, without effect on the sender).
 */
public final class PcieFabric {

    private final EventLoop loop;
    private final long tlpLatencyNs;
    private final Map<Integer, PcieFunction> functions = new HashMap<>();

    public PcieFabric(EventLoop loop, long tlpLatencyNs) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.tlpLatencyNs = tlpLatencyNs;
    }

    public void attach(PcieFunction function) {
        if (functions.putIfAbsent(function.rid(), function) != null) {
            throw new IllegalArgumentException(String.format("RID %04x already has a function", function.rid()));
        }
    }

    /** Whether a function with requester ID {@code rid} sits on the fabric. */
    public boolean has(int rid) {
        return functions.containsKey(rid);
    }

    /** Sends an ATS Invalidate Request downstream; it arrives one TLP latency later. */
    public void sendAtsInvalidate(AtsInvalidateRequest request) {
        PcieFunction target = functions.get(request.rid());
        loop.schedule(tlpLatencyNs, "ats-invalidate", () -> {
            if (target != null) {
                target.atsInvalidate(request);
            }
        });
    }

    /** Sends a PRG response downstream; it arrives one TLP latency later. */
    public void sendPrgResponse(PrgResponse response) {
        PcieFunction target = functions.get(response.rid());
        loop.schedule(tlpLatencyNs, "prg-response", () -> {
            if (target != null) {
                target.prgResponse(response);
            } else {
                loop.trace().step(loop.now(), Layer.DEVICE, "pcie","PRG response for absent RID %04x dropped", response.rid());
            }
        });
    }
}
