/// A stream's filters of one direction, in order. The first is kept inline,
/// so the usual chain (the router alone) costs no array allocation per
/// stream; further filters go to an array.
struct FilterList<Element>: RandomAccessCollection {
    private var head: Element?
    private var tail: [Element] = []

    init() {}

    var startIndex: Int { 0 }
    var endIndex: Int { head == nil ? 0 : 1 + tail.count }

    subscript(position: Int) -> Element {
        position == 0 ? head! : tail[position - 1]
    }

    mutating func append(_ element: Element) {
        if head == nil { head = element } else { tail.append(element) }
    }

    mutating func removeAll() {
        head = nil
        tail.removeAll()
    }
}
