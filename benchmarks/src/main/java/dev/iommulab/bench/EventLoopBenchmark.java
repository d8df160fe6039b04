package dev.iommulab.bench;

import dev.iommulab.hw.sim.EventLoop;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;

/**
 * Cost of the simulation kernel: schedule {@code events} events on a fresh {@link EventLoop} and
 * dispatch them all with {@link EventLoop#runUntilIdle()}. One operation is the whole batch; divide by
 * {@code events} for the cost per event.
 *
 * <p>{@code scheduleAndDispatch} uses scattered delays (a fixed permutation, so the queue really has to
 * order them, with ties broken by sequence); {@code scheduleAndDispatchChained} has every event
 * schedule the next one, the shape of an IRQ handler queueing work, so the queue stays one deep.
 * No trace sink is attached.
 */
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class EventLoopBenchmark extends LabBenchmark {

    private static final long SEED = 0x10_4d_4dL;

    @Param({"100", "10000"})
    public int events;

    private long counter;

    @Benchmark
    public long scheduleAndDispatch() {
        EventLoop loop = new EventLoop(SEED);
        Runnable action = () -> counter++;
        for (int i = 0; i < events; i++) {
            long delayNs = (i * 7919L) % 1_000;
            loop.schedule(delayNs, "bench", action);
        }
        loop.runUntilIdle();
        return loop.dispatchedEvents() + counter;
    }

    @Benchmark
    public long scheduleAndDispatchChained() {
        EventLoop loop = new EventLoop(SEED);
        int[] remaining = {events};
        Runnable[] step = new Runnable[1];
        step[0] = () -> {
            counter++;
            if (--remaining[0] > 0) {
                loop.schedule(10, "bench", step[0]);
            }
        };
        loop.schedule(0, "bench", step[0]);
        loop.runUntilIdle();
        return loop.dispatchedEvents() + counter;
    }
}
