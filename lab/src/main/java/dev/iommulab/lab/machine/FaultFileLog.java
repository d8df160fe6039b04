package dev.iommulab.lab.machine;

import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.vfio.IommufdFault;
import dev.iommulab.vfio.PgFaultRecord;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What passes through one process's fault file: every record read and every answer written, each attributed to
 * the process's client or to the scenario step that was performing a raw read or write.
 */
final class FaultFileLog implements IommufdFault.Observer {

    private final EventLoop loop;
    private final List<VfioProcess.RecordRead> records = new ArrayList<>();
    private final List<VfioProcess.ResponseWritten> responses = new ArrayList<>();
    private String by = VfioProcess.CLIENT;
    private int lastReadCookie;
    private int reads;

    FaultFileLog(EventLoop loop) {
        this.loop = loop;
    }

    /** Who reads and writes from now on: {@link VfioProcess#CLIENT} or {@link VfioProcess#STEP}. */
    void by(String who) {
        this.by = who;
    }

    @Override
    public void read(byte[] bytes) {
        if (bytes.length > 0) {
            reads++;
        }
        for (PgFaultRecord r : PgFaultRecord.decode(bytes)) {
            records.add(new VfioProcess.RecordRead(loop.now(), by, reads, r));
            lastReadCookie = r.cookie();
        }
    }

    /** Logs the answers taken and the first one refused; those after it were not looked at. */
    @Override
    public void wrote(byte[] data, int consumed, KernelException rejected) {
        int[][] answers = PgFaultRecord.decodeResponses(data);
        for (int i = 0; i < answers.length; i++) {
            boolean accepted = i * IommufdFault.RESPONSE_SIZE < consumed;
            if (!accepted && rejected == null) {
                break;
            }
            responses.add(new VfioProcess.ResponseWritten(loop.now(), by, answers[i][0], answers[i][1], accepted,
                    accepted ? null : rejected.errno().name()));
            if (!accepted) {
                break;
            }
        }
    }

    int lastReadCookie() {
        return lastReadCookie;
    }

    List<VfioProcess.RecordRead> records() {
        return Collections.unmodifiableList(records);
    }

    List<VfioProcess.ResponseWritten> responses() {
        return Collections.unmodifiableList(responses);
    }
}
