a ${templatefile("self.tpl", {})}
