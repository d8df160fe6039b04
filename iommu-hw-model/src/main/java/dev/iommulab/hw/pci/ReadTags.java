package dev.iommulab.hw.pci;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.function.Consumer;

/**
 * The Tag field of a function's outstanding non-posted requests (memory reads and ATS Translation
 * Requests). A tag is taken when the request goes out and retired when its completion comes back —
 * whatever the completion status: a function that retires tags only on Successful Completions leaks one
 * per UR/CA and eventually hangs (reference §4, LITEPCIE; §6 scenario 48). With every tag in use the
 * function waits for one to retire.
 */
final class ReadTags {

    enum Kind { TRANSLATION, READ }

    /** One outstanding request, with what an ATS invalidation needs to know about it. */
    static final class Tag {
        final int number;
        final Kind kind;
        final int pasid;
        final long page;
        final boolean translated;
        /** An ATS invalidation overlapped this Translation Request: its completion must not be used. */
        boolean nullified;

        private Tag(int number, Kind kind, int pasid, long page, boolean translated) {
            this.number = number;
            this.kind = kind;
            this.pasid = pasid;
            this.page = page;
            this.translated = translated;
        }
    }

    private final Tag[] slots;
    private final Queue<Runnable> waiters = new ArrayDeque<>();
    private final Consumer<Tag> onRetire;
    private int outstanding;
    private int highWater;

    ReadTags(int capacity, Consumer<Tag> onRetire) {
        this.slots = new Tag[capacity];
        this.onRetire = onRetire;
    }

    /** Takes the lowest free tag, or returns null when all are outstanding. */
    Tag allocate(Kind kind, int pasid, long page, boolean translated) {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] == null) {
                Tag tag = new Tag(i, kind, pasid, page, translated);
                slots[i] = tag;
                outstanding++;
                highWater = Math.max(highWater, outstanding);
                return tag;
            }
        }
        return null;
    }

    /** The completion for {@code tag} arrived (any status). A tag cleared by FLR is ignored. */
    void retire(Tag tag) {
        if (slots[tag.number] != tag) {
            return;
        }
        slots[tag.number] = null;
        outstanding--;
        onRetire.accept(tag);
        while (outstanding < slots.length && !waiters.isEmpty()) {
            waiters.poll().run();
        }
    }

    /** Runs {@code issue} once a tag is free (it is expected to allocate one). */
    void whenFree(Runnable issue) {
        waiters.add(issue);
    }

    List<Tag> outstandingTags() {
        List<Tag> out = new ArrayList<>();
        for (Tag t : slots) {
            if (t != null) {
                out.add(t);
            }
        }
        return out;
    }

    int outstanding() {
        return outstanding;
    }

    int highWater() {
        return highWater;
    }

    /** FLR: every tag is free; completions of requests sent before the reset are discarded. */
    void clear() {
        Arrays.fill(slots, null);
        outstanding = 0;
        waiters.clear();
    }
}
